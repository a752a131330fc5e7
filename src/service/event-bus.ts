// The service's typed event bus (zigbee2mqtt's eventBus): what happens is emitted once, and each
// consumer (metrics, live status, retained MQTT state, Sparkplug B, ...) subscribes on its own, so a
// new consumer touches no other module. A listener that throws or rejects is logged and never
// reaches the emitter: a dashboard or Sparkplug bug must not stop the pipeline.
import { EventEmitter } from 'node:events';
import type { AnomalyEvent } from '../events/anomaly-event.js';
import type { InspectionResult } from '../events/inspection-result.js';
import type { AlarmState } from '../operator/alarm-board.js';
import type { Suspension } from '../operator/suspensions.js';
import type { FrameOutcome } from '../pipeline/stages.js';
import type { DecideResult } from '../postprocess/decide.js';
import type { SourceState } from '../sources/source.js';
import type { Logger } from '../util/log.js';
import type { Decided } from './decision-stage.js';
import type { SettingsChanged } from './camera-settings.js';

export interface ServiceEvents {
  /** Every frame's decision, in capture order per camera, before its event (if any) is made durable. */
  decision: { cameraId: string; decision: DecideResult; event?: AnomalyEvent };
  /** An anomaly event once it is durable in the outbox (snapshot references attached). */
  event: AnomalyEvent;
  /** A frame that went all the way through the pipeline, with its stage timings. */
  frame: FrameOutcome<Decided>;
  cameraState: { cameraId: string; state: SourceState };
  /** A camera's class name or thresholds changed, through whichever door. */
  settings: SettingsChanged;
  /** A trigger camera's inspection result once it is durable in the outbox. */
  result: InspectionResult;
  /** A camera's alarm state changed: raised, cleared or acknowledged. */
  alarm: AlarmState;
  /** A camera was suspended (suspension set) or resumed (absent). */
  suspension: { cameraId: string; suspension?: Suspension };
  /** A new live frame of a camera is ready (at most every LiveFrames interval). */
  liveFrame: { cameraId: string; seq: number; at: string };
}

export type Listener<K extends keyof ServiceEvents> = (payload: ServiceEvents[K]) => void | Promise<void>;

export class ServiceBus {
  private readonly emitter = new EventEmitter();

  constructor(private readonly logger: Logger) {
    this.emitter.setMaxListeners(0);
  }

  /** Calls `listener` for every `name` from now on; returns the unsubscribe function. */
  on<K extends keyof ServiceEvents>(name: K, listener: Listener<K>): () => void {
    const failed = (err: unknown) => this.logger.warn({ err, event: name }, 'an event listener failed');
    const safe = (payload: ServiceEvents[K]) => {
      try {
        // a listener may return anything (prom-client's inc() returns an object): only a promise is awaited
        const r: unknown = listener(payload);
        if (r instanceof Promise) r.catch(failed);
      } catch (err) {
        failed(err);
      }
    };
    this.emitter.on(name, safe);
    return () => this.emitter.off(name, safe);
  }

  /** Calls the listeners now, in the order they subscribed. */
  emit<K extends keyof ServiceEvents>(name: K, payload: ServiceEvents[K]): void {
    this.emitter.emit(name, payload);
  }
}
