// Where a part's trigger arrives (PLC topic, MQTT command, dashboard): every trigger of a trigger
// camera is answered by exactly one inspection result, refused ones included (verdict error:
// suspended camera, too many waiting), so the reject gate never waits on silence.
import { randomUUID } from 'node:crypto';
import type { DropEvent } from '../admit/drop-counter.js';
import type { CameraConfig, Config } from '../config/schema.js';
import type { TriggerOutcome } from '../dashboard/types.js';
import type { Metrics } from '../metrics/prometheus.js';
import type { Suspensions } from '../operator/suspensions.js';
import { TriggerRejectedError } from '../sources/trigger.js';
import type { Logger } from '../util/log.js';
import { errorResult, type ResultContext } from '../events/inspection-result.js';
import type { MqttLink } from '../mqtt/mqtt-link.js';
import type { CameraSettings } from './camera-settings.js';
import type { ServiceBus } from './event-bus.js';
import { subscribeTriggerTopic } from './mqtt-doors.js';
import { ResultLedger } from './result-ledger.js';

export interface TriggerDeskDeps {
  /** The running cameras (a reload changes them). */
  cameras: () => Config['cameras'];
  /** The running pipeline's trigger: the trigger id, or throws TriggerRejectedError. */
  pipelineTrigger: (cameraId: string, partId?: string) => string;
  ledger: ResultLedger;
  /** Where the trigger cameras' PLC topics are subscribed. */
  mqtt: MqttLink;
  suspensions: Suspensions;
  metrics: Metrics;
  logger: Logger;
}

export class TriggerDesk {
  /** Trigger topics subscribed, as topic + camera: a camera started again is not subscribed twice. */
  private readonly topics = new Set<string>();

  constructor(private readonly deps: TriggerDeskDeps) {}

  /** A trigger camera's PLC topic (`source.mqttTopic`, at start or from a reload); refusals are logged. */
  listen(cam: CameraConfig): void {
    if (cam.source.kind !== 'trigger' || !cam.source.mqttTopic) return;
    const key = `${cam.source.mqttTopic}\0${cam.id}`;
    if (this.topics.has(key)) return;
    this.topics.add(key);
    const trigger = (id: string, partId?: string) => 'triggerId' in this.trigger(id, partId);
    subscribeTriggerTopic(cam, this.deps.mqtt, trigger, this.deps.logger);
  }

  /** Returns the trigger id, or throws when refused (the refusal still gets its result). */
  triggerPart(cameraId: string, partId?: string): string {
    const { ledger, metrics } = this.deps;
    const cam = this.deps.cameras().find((c) => c.id === cameraId);
    const triggeredAtWall = Date.now();
    const isTriggerCamera = cam?.source.kind === 'trigger';
    if (isTriggerCamera) metrics.triggers.inc({ camera: cameraId });
    const suspension = this.deps.suspensions.get(cameraId);
    if (isTriggerCamera && suspension) {
      const until = suspension.until ? ` until ${suspension.until}` : '';
      const why = `camera ${cameraId} is suspended${until} (by ${suspension.by})`;
      this.answerRefused(cameraId, partId, triggeredAtWall, 'suspended', why);
      throw new Error(`${why}: answered with verdict error`);
    }
    let triggerId: string;
    try {
      triggerId = this.deps.pipelineTrigger(cameraId, partId);
    } catch (err) {
      // 'invalid' is not a trigger camera's part (unknown camera, wrong kind): nothing to answer
      if (err instanceof TriggerRejectedError && err.kind !== 'invalid')
        this.answerRefused(cameraId, partId, triggeredAtWall, 'trigger-rejected', err.message);
      throw err;
    }
    ledger.register({ cameraId, triggerId, partId, triggeredAtWall });
    return triggerId;
  }

  /** The outcome form used by PLC topics and the dashboard: the id, or why it was refused (logged). */
  trigger(cameraId: string, partId?: string): TriggerOutcome {
    try {
      return { triggerId: this.triggerPart(cameraId, partId) };
    } catch (err) {
      const refused = (err as Error).message;
      this.deps.logger.warn({ camera: cameraId, err: refused }, 'trigger refused');
      return { refused };
    }
  }

  /** A part's frame, or a trigger, that left the pipeline uninspected: its result says why. */
  answerDrop(e: DropEvent): void {
    if (e.triggerId === undefined) return;
    void this.deps.ledger.fail(
      { cameraId: e.cameraId, triggerId: e.triggerId, partId: e.partId, triggeredAtWall: Date.now() },
      e.reason,
      e.detail ?? `frame dropped (${e.reason})`,
    );
  }

  private answerRefused(
    cameraId: string,
    partId: string | undefined,
    triggeredAtWall: number,
    reason: 'suspended' | 'trigger-rejected',
    why: string,
  ): void {
    const part = { cameraId, triggerId: randomUUID(), partId, triggeredAtWall };
    this.deps.ledger.register(part);
    void this.deps.ledger.fail(part, reason, why);
  }
}

/** The ledger that answers every trigger once, its results made durable through the outbox. */
export function createResultLedger(d: {
  mqtt: MqttLink;
  bus: ServiceBus;
  settings: () => CameraSettings;
  context: ResultContext;
  metrics: Metrics;
  logger: Logger;
}): ResultLedger {
  return new ResultLedger({
    persist: (r) => d.mqtt.publishResult(r),
    durable: (r) => d.bus.emit('result', r),
    errorDoc: (part, reason, detail) =>
      errorResult(d.context, part, {
        reason,
        detail,
        className: d.settings().camera(part.cameraId).className,
      }),
    resultTimeoutMs: (id) => {
      const src = d.settings().camera(id).source;
      return src.kind === 'trigger' ? src.resultTimeoutMs : 60_000;
    },
    late: (part) => d.metrics.resultsLate.inc({ camera: part.cameraId }),
    logger: d.logger,
  });
}
