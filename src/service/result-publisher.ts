// The pipeline's publish stage. Every decision goes out on the bus (metrics, Sparkplug B, ...) and
// its frame is offered to the live view. An alarm transition's event then gets its snapshots,
// becomes durable in the MQTT outbox and goes out on the bus (history, live page); a frame of a
// trigger camera's part gets its inspection result, made durable in trigger order (ResultLedger).
// The stage resolves only once both are on disk, so the pipeline holds the frame until then; the
// JPEGs follow on the snapshot topic. A frame with an event and a result is photographed once.
import { attachSnapshots, type AnomalyEvent, type SnapshotRef } from '../events/anomaly-event.js';
import { newEventId } from '../events/ids.js';
import { resultFromDecision, type ResultContext } from '../events/inspection-result.js';
import type { SnapshotStore } from '../events/snapshots.js';
import type { MqttLink } from '../mqtt/mqtt-link.js';
import type { FrameJob } from '../pipeline/stages.js';
import type { Logger } from '../util/log.js';
import type { Decided } from './decision-stage.js';
import type { ServiceBus } from './event-bus.js';
import type { LiveFrames } from './live-frames.js';
import type { ModelResult } from './model-stages.js';
import type { ResultLedger } from './result-ledger.js';

interface Snapshotted {
  refs: SnapshotRef[];
  jpegs: { id: string; jpeg: Buffer }[];
}

export class ResultPublisher {
  constructor(
    private readonly deps: {
      bus: ServiceBus;
      mqtt: MqttLink;
      /** Absent when snapshots are off. */
      snapshots?: SnapshotStore;
      /** Which inspection results get snapshots (snapshots.results). */
      resultSnapshots?: 'all' | 'ng' | 'none';
      /** The whole smoothed map of a result (ModelStages.smoothed). */
      smoothed: (result: ModelResult) => Float32Array;
      /** Inspection results of trigger cameras; absent: none are made. */
      results?: { ledger: ResultLedger; context: ResultContext };
      live?: LiveFrames;
      logger: Logger;
    },
  ) {}

  /** This is where an event and a result are made durable (the outbox accepts them). */
  publish = async ({ decision, event, result }: Decided, job: FrameJob): Promise<void> => {
    const { bus, mqtt, results } = this.deps;
    const frame = job.frame;
    const cameraId = frame.cameraId;
    bus.emit('decision', { cameraId, decision, event });
    this.deps.live?.offer(frame, decision, result);
    const triggerId = results ? frame.triggerId : undefined;
    if (!event && triggerId === undefined) return;

    const resultId = triggerId !== undefined ? newEventId() : undefined;
    const mode = this.deps.resultSnapshots ?? 'all';
    const photograph =
      event !== undefined || mode === 'all' || (mode === 'ng' && decision.detection.anomalous);
    const snaps = photograph
      ? await this.withSnapshots({ decision, event, result }, job, event?.id ?? resultId!)
      : { refs: [], jpegs: [] };

    if (event) {
      const durable = snaps.refs.length ? attachSnapshots(event, snaps.refs) : event;
      await mqtt.publishEvent(durable as unknown as { id: string; cameraId: string });
      bus.emit('event', durable);
    }
    if (results && triggerId !== undefined) {
      // the triggered-at wall time, for a trigger the ledger does not know (not registered)
      const triggeredAtWall =
        frame.capturedAtWall - (frame.capturedAtMono - (frame.triggeredAtMono ?? frame.capturedAtMono));
      await results.ledger.complete(
        cameraId,
        triggerId,
        (part) =>
          // stamped with the model that scored this frame (it may have been swapped since)
          resultFromDecision({ ...results.context, model: result.model }, part, {
            id: resultId,
            d: decision,
            capturedAtWall: frame.capturedAtWall,
            eventId: event?.id,
            snapshots: snaps.refs,
            timings: job.timings,
          }),
        { partId: frame.partId, triggeredAtWall },
      );
    }
    // each JPEG goes out under its own snapshot id (<event or result>-frame, -overlay)
    for (const s of snaps.jpegs) await mqtt.publishSnapshot(cameraId, s.id, s.jpeg);
  };

  private async withSnapshots(
    { decision, result }: Decided & { event?: AnomalyEvent },
    job: FrameJob,
    id: string,
  ): Promise<Snapshotted> {
    const { snapshots, mqtt, logger } = this.deps;
    if (!snapshots) return { refs: [], jpegs: [] };
    const cameraId = job.frame.cameraId;
    try {
      const saved = await snapshots.save({
        eventId: id,
        cameraId,
        frame: job.frame.image,
        mapSmoothed: this.deps.smoothed(result),
        mapSize: decision.detection.mapSize,
        source: result.source,
        regions: decision.detection.regions,
        topic: mqtt.topics.snapshot(cameraId),
      });
      return {
        refs: saved.map((s) => s.ref),
        jpegs: saved.map((s) => ({ id: s.ref.id, jpeg: s.jpeg })),
      };
    } catch (err) {
      // A full disk must not cost the alarm or the verdict: they go out without snapshot references.
      logger.error({ err, camera: cameraId, id }, 'snapshot failed; publishing without it');
      return { refs: [], jpegs: [] };
    }
  }
}
