// TEST DOUBLE: stages that stand in for preprocessing, the model and the decision where the real
// ones are not the point (pipeline and source tests). The "engine" only waits a configurable latency
// (a GPU's time, without a GPU) and reports a score derived from the frame's known truth, so a run
// shows where frames went without claiming to detect anything.
import type { Frame } from '../../src/sources/frame.js';
import type { CameraConfig } from '../../src/config/schema.js';
import type { FrameJob, PipelineStages } from '../../src/pipeline/stages.js';

export interface FakeTensor {
  cameraId: string;
  seq: number;
  width: number;
  height: number;
  /** Synthetic truth, when the source knows it. */
  defective: boolean;
}

export interface FakeResult {
  score: number;
}

export interface FakeDecision {
  cameraId: string;
  seq: number;
  className: string;
  score: number;
  anomalous: boolean;
  partId?: string;
}

export interface FakeStagesOptions {
  /** Engine latency per call in ms (a number, or a function of the batch size); Infinity hangs. */
  engineLatencyMs?: number | ((batch: number) => number);
  /** Frames for which preprocessing throws (fault injection). */
  failPreprocess?: (frame: Frame) => boolean;
  /** Batches for which the engine throws (fault injection). */
  failEngine?: (jobs: readonly FrameJob[]) => boolean;
  /** Receives every published decision. */
  onPublish?: (d: FakeDecision, job: FrameJob) => void | Promise<void>;
  /** Records the batch sizes the engine saw. */
  onEngineCall?: (batch: number, inFlight: number) => void;
}

export type FakeStages = PipelineStages<FakeTensor, FakeTensor[], FakeResult, FakeDecision> & {
  /** Engine calls running right now, and the most ever running at once. */
  readonly engineInFlight: number;
  readonly maxEngineInFlight: number;
};

export function createFakeStages(o: FakeStagesOptions = {}): FakeStages {
  let inFlight = 0;
  let maxInFlight = 0;
  const latency = (b: number) =>
    typeof o.engineLatencyMs === 'function' ? o.engineLatencyMs(b) : (o.engineLatencyMs ?? 0);
  return {
    get engineInFlight() {
      return inFlight;
    },
    get maxEngineInFlight() {
      return maxInFlight;
    },
    preprocess(frame: Frame, _camera: CameraConfig): FakeTensor {
      if (o.failPreprocess?.(frame)) throw new Error(`fake preprocess failure on frame ${frame.seq}`);
      return {
        cameraId: frame.cameraId,
        seq: frame.seq,
        width: frame.image.cols,
        height: frame.image.rows,
        defective: (frame.truthDefects?.length ?? 0) > 0,
      };
    },
    async engine(tensors: FakeTensor[], jobs: readonly FrameJob[]): Promise<FakeTensor[]> {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      o.onEngineCall?.(tensors.length, inFlight);
      try {
        const ms = latency(tensors.length);
        // Infinity: an engine call that never returns (a hung device), without a timer keeping the
        // process alive
        if (ms === Infinity) await new Promise(() => undefined);
        else if (ms > 0) await new Promise((r) => setTimeout(r, ms));
        if (o.failEngine?.(jobs)) throw new Error(`fake engine failure on a batch of ${jobs.length}`);
        return tensors;
      } finally {
        inFlight--;
      }
    },
    hsf(out: FakeTensor[]): FakeResult[] {
      return out.map((t) => ({ score: t.defective ? 0.9 : 0.1 }));
    },
    decide(r: FakeResult, job: FrameJob): FakeDecision {
      const threshold = job.camera.thresholds.image;
      return {
        cameraId: job.frame.cameraId,
        seq: job.frame.seq,
        className: job.camera.className,
        score: r.score,
        anomalous: r.score >= threshold,
        partId: job.frame.partId,
      };
    },
    async publish(d: FakeDecision, job: FrameJob): Promise<void> {
      await o.onPublish?.(d, job);
    },
  };
}
