// What the pipeline needs from the stages it composes. Each stage is a plain (async) function with
// no knowledge of streams; the service's composition root wires the real ones (OpenCV preprocess,
// onnxruntime/TensorRT engine, HSF, decide, MQTT publish), tests wire fakes.
import type { CameraConfig } from '../config/schema.js';
import type { Frame } from '../sources/frame.js';
import type { StageTimings } from '../util/timings.js';

/** One frame on its way through the pipeline, with what the pipeline knows about it. */
export interface FrameJob {
  frame: Frame;
  /** The camera's config when the frame was captured (class name, ROI, rotation, thresholds). */
  camera: CameraConfig;
  /** Filled in stage by stage; decide sees wait..hsf, publish sees decide too. */
  timings: StageTimings;
  /** performance.now() when the frame entered its camera's admission queue. */
  queuedAtMono: number;
}

export interface PipelineStages<TTensor, TEngineOut, TResult, TDecision> {
  /** One frame to the engine's input format (e.g. ImageTensor). A throw drops only this frame. */
  preprocess(frame: Frame, camera: CameraConfig): TTensor | Promise<TTensor>;
  /** One engine call for a batch (1..maxBatch frames, possibly from several cameras). */
  engine(tensors: TTensor[], jobs: readonly FrameJob[]): Promise<TEngineOut>;
  /** Hybrid Semantic Fusion (or any per-batch step after the engine): one result per job, in order. */
  hsf(out: TEngineOut, jobs: readonly FrameJob[]): TResult[] | Promise<TResult[]>;
  /** The verdict on one frame (post-processing, temporal filter, event building). Called in capture
   *  order per camera. */
  decide(result: TResult, job: FrameJob): TDecision | Promise<TDecision>;
  /**
   * Hands the decision on (MQTT, outbox, dashboard). After it resolves the pipeline releases the
   * frame's pixels (see PipelineOptions.releaseFrames): copy or encode what you keep.
   */
  publish(decision: TDecision, job: FrameJob): void | Promise<void>;
}

/** The stages a model provides, swapped together between two batches (Pipeline.swapModel). */
export type ModelStageSet<TTensor, TEngineOut, TResult> = Pick<
  PipelineStages<TTensor, TEngineOut, TResult, unknown>,
  'preprocess' | 'engine' | 'hsf'
>;

/** What the pipeline reports for every frame that went all the way through. */
export interface FrameOutcome<TDecision> {
  cameraId: string;
  seq: number;
  partId?: string;
  triggerId?: string;
  capturedAtMono: number;
  capturedAtWall: number;
  /** performance.now() when decide() returned and when publish() resolved. */
  decidedAtMono: number;
  publishedAtMono: number;
  /** Frames in the engine call this frame was part of. */
  batchSize: number;
  timings: StageTimings;
  decision: TDecision;
}
