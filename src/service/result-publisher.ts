// The pipeline's publish stage. Every decision goes out on the bus (metrics, Sparkplug B, ...); an
// event then gets its snapshots, becomes durable in the MQTT outbox, goes out on the bus (metrics,
// live status, dashboard) and its JPEGs follow on the snapshot topic. The stage resolves only once
// the event is on disk, so the pipeline holds the frame until then.
import { attachSnapshots, type AnomalyEvent } from '../events/anomaly-event.js';
import type { SnapshotStore } from '../events/snapshots.js';
import type { MqttLink } from '../mqtt/mqtt-link.js';
import type { FrameJob } from '../pipeline/stages.js';
import type { Logger } from '../util/log.js';
import type { Decided } from './decision-stage.js';
import type { ServiceBus } from './event-bus.js';
import type { ModelResult } from './model-stages.js';

interface Snapshotted {
  event: AnomalyEvent;
  jpegs: { id: string; jpeg: Buffer }[];
}

export class ResultPublisher {
  constructor(
    private readonly deps: {
      bus: ServiceBus;
      mqtt: MqttLink;
      /** Absent when snapshots are off. */
      snapshots?: SnapshotStore;
      /** The whole smoothed map of a result (ModelStages.smoothed). */
      smoothed: (result: ModelResult) => Float32Array;
      logger: Logger;
    },
  ) {}

  /** This is where an event is made durable (the outbox accepts it); snapshots and live views follow. */
  publish = async ({ decision, event, result }: Decided, job: FrameJob): Promise<void> => {
    const { bus, mqtt } = this.deps;
    const cameraId = job.frame.cameraId;
    bus.emit('decision', { cameraId, decision, event });
    if (!event) return;
    const done = await this.withSnapshots({ decision, event, result }, job);
    await mqtt.publishEvent(done.event as unknown as { id: string; cameraId: string });
    bus.emit('event', done.event);
    // each JPEG goes out under its own snapshot id (<event>-frame, <event>-overlay)
    for (const s of done.jpegs) await mqtt.publishSnapshot(cameraId, s.id, s.jpeg);
  };

  private async withSnapshots(
    { decision, event, result }: Decided & { event: AnomalyEvent },
    job: FrameJob,
  ): Promise<Snapshotted> {
    const { snapshots, mqtt, logger } = this.deps;
    if (!snapshots) return { event, jpegs: [] };
    const cameraId = job.frame.cameraId;
    try {
      const saved = await snapshots.save({
        eventId: event.id,
        cameraId,
        frame: job.frame.image,
        mapSmoothed: this.deps.smoothed(result),
        mapSize: decision.detection.mapSize,
        source: result.source,
        regions: decision.detection.regions,
        topic: mqtt.topics.snapshot(cameraId),
      });
      return {
        event: attachSnapshots(
          event,
          saved.map((s) => s.ref),
        ),
        jpegs: saved.map((s) => ({ id: s.ref.id, jpeg: s.jpeg })),
      };
    } catch (err) {
      // A full disk must not cost the alarm: the event goes out without snapshot references.
      logger.error(
        { err, camera: cameraId, event: event.id },
        'snapshot failed; publishing the event without it',
      );
      return { event, jpegs: [] };
    }
  }
}
