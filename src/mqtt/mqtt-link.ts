// The service's link to the MQTT broker, as one façade: embedded broker (when no mqtt.url), the
// connection with availability will, the durable event outbox and its publisher, camera state,
// snapshots, periodic stats, request/response commands and handlers for other topics (PLC
// triggers). The constructor only wires dependencies; start() and stop() own the life cycle.
import { EventEmitter } from 'node:events';
import type { MqttConfig } from '../config/schema.js';
import type { Logger } from '../util/log.js';
import { resolveMqttSettings } from './client-options.js';
import { CommandPolicy } from '../operator/command-policy.js';
import { CommandRouter, type CommandHandlers, type CommandResponse } from './commands.js';
import { MqttConnection, withTimeout, type ConnectionState } from './connection.js';
import { EmbeddedBroker } from './embedded-broker.js';
import {
  DurableOutbox,
  type OutboxCounters,
  type OutboxKind,
  type OutboxLossKind,
  type SyncMode,
} from './outbox.js';
import { OutboxPublisher, type DeliveredInfo } from './outbox-publisher.js';
import { STATE_EXPIRY_S, Topics, isValidFilter, topicMatches } from './topics.js';

/** How long a snapshot JPEG may take to be written to the socket before it is given up. */
const SNAPSHOT_SEND_MS = 2000;

/** Until src/events defines AnomalyEvent: any JSON document with a sortable unique id and a camera. */
export interface PublishableEvent {
  id: string;
  cameraId: string;
  [key: string]: unknown;
}

export type CameraStatus = 'online' | 'stalled' | 'reconnecting' | 'offline' | 'suspended';

/** Retained on `<base>/<camera>/state`. */
export interface CameraStatePayload {
  status: CameraStatus;
  className?: string;
  thresholds?: { image?: number; pixel?: number; clear?: number; minRegionAreaPct?: number };
  lastScore?: number;
  lastEventId?: string;
  [key: string]: unknown;
}

export interface MqttLinkOptions {
  /** Camera ids from the config: commands naming another camera are refused. */
  cameraIds?: readonly string[];
  /** Used when mqtt.clientId is not set (default adaclip-edge-<hostname>). */
  clientId?: string;
  /** Extra fields for `<base>/stats` (fps, latencies...), called at every stats tick. */
  statsProvider?: () => Record<string, unknown>;
  /** Outbox fsync policy; FULL unless a benchmark compares. */
  outboxSynchronous?: SyncMode;
  /** Who may run which command (the service's one policy); default: built from mqtt.commands. */
  policy?: CommandPolicy;
}

export interface MqttLinkStats {
  connection: {
    state: ConnectionState;
    connects: number;
    disconnects: number;
    lastError?: string;
    protocolVersion: 4 | 5;
  };
  outbox: OutboxCounters & { inflight: number; maxEvents: number; overflow: string };
  commands: { ok: number; errors: number; dropped: number };
}

export class MqttLink extends EventEmitter<{
  state: [ConnectionState];
  delivered: [DeliveredInfo];
  /** Documents (events, results) lost to the outbox overflow policy. */
  loss: [{ kind: OutboxLossKind; count: number }];
}> {
  readonly topics: Topics;
  private broker?: EmbeddedBroker;
  private connection?: MqttConnection;
  private outbox?: DurableOutbox;
  private publisher?: OutboxPublisher;
  private router?: CommandRouter;
  private pendingHandlers: CommandHandlers = {};
  private readonly cameraStates = new Map<string, CameraStatePayload>();
  private readonly alarmStates = new Map<string, Record<string, unknown>>();
  private info?: Record<string, unknown>;
  private statsTimer?: NodeJS.Timeout;
  private outboxStatusTimer?: NodeJS.Timeout;
  private readonly startedAt = Date.now();
  private readonly extraSubscriptions: {
    filter: string;
    handler: (payload: Buffer, topic: string) => void;
  }[] = [];

  constructor(
    private readonly cfg: MqttConfig,
    private readonly logger: Logger,
    private readonly opts: MqttLinkOptions = {},
  ) {
    super();
    this.topics = new Topics(cfg.baseTopic);
  }

  get connectionState(): ConnectionState {
    return this.connection?.state ?? 'idle';
  }

  /** The broker URL in use (the embedded one when mqtt.url is absent); valid after start(). */
  get brokerUrl(): string | undefined {
    return this.cfg.url ?? this.broker?.url;
  }

  /**
   * Opens the outbox (replaying what a previous run left), starts the embedded broker if needed and
   * begins connecting. Does not wait for the broker: events are durable in the outbox meanwhile.
   */
  async start(): Promise<void> {
    if (this.connection) return;
    const cfg = this.cfg;
    let url = cfg.url;
    let protocolVersion = cfg.protocolVersion;
    if (!url) {
      this.broker = new EmbeddedBroker(cfg.embedded, this.logger);
      url = await this.broker.start();
      if (protocolVersion === 5) {
        protocolVersion = 4; // aedes speaks MQTT 3.1.1 only
        this.logger.info('embedded broker: using MQTT 3.1.1');
      }
    }
    const settings = resolveMqttSettings(cfg, {
      url,
      protocolVersion,
      clientId: cfg.clientId ?? this.opts.clientId,
    });

    const outbox = new DurableOutbox(
      {
        path: cfg.outbox.path,
        maxEvents: cfg.outbox.maxEvents,
        overflow: cfg.outbox.overflow,
        synchronous: this.opts.outboxSynchronous,
      },
      this.logger,
    );
    outbox.open();
    outbox.on('loss', (l) => {
      this.scheduleOutboxStatus();
      this.emit('loss', l);
    });
    this.outbox = outbox;

    const availability = this.topics.availability;
    const connection = new MqttConnection(
      {
        settings,
        will: { topic: availability, payload: 'offline', qos: 1, retain: true },
        birth: { topic: availability, payload: 'online', qos: 1, retain: true },
        farewell: { topic: availability, payload: 'offline', qos: 1, retain: true },
      },
      this.logger,
    );
    this.connection = connection;
    connection.on('state', (s) => this.emit('state', s));
    connection.on('connect', () => this.onConnected());

    this.publisher = new OutboxPublisher(
      outbox,
      connection,
      this.topics,
      { inflight: cfg.outbox.inflight },
      this.logger,
    );
    this.publisher.on('delivered', (d) => this.emit('delivered', d));

    if (cfg.commands.enabled) {
      this.router = new CommandRouter(
        this.topics,
        {
          policy: this.opts.policy ?? new CommandPolicy(cfg.commands),
          responseTopics: cfg.commands.responseTopics,
          maxPayloadBytes: cfg.commands.maxPayloadBytes,
          cameraIds: this.opts.cameraIds,
        },
        (topic, response, correlationData) => this.publishResponse(topic, response, correlationData),
        this.logger,
      );
      this.router.setHandlers(this.pendingHandlers);
      connection.on('message', (topic, payload, packet) => {
        if (topic.startsWith('$') || this.topics.commandOf(topic) === undefined) return;
        this.router?.enqueue({
          topic,
          payload,
          responseTopic: packet.properties?.responseTopic,
          correlationData: packet.properties?.correlationData,
        });
      });
    }

    connection.on('message', (topic, payload) => this.dispatchExtra(topic, payload));
    connection.start();
    this.publisher.start();
    for (const sub of this.extraSubscriptions) this.subscribeNow(sub.filter);
    if (this.router) {
      // Queued by mqtt.js until connected, and resubscribed after every reconnect.
      for (const filter of this.topics.requestFilters)
        connection
          .subscribe(filter, 1)
          .catch((err: Error) =>
            this.logger.error({ err: err.message, filter }, 'cannot subscribe to command requests'),
          );
    }
    this.statsTimer = setInterval(() => this.publishStats(), cfg.statsIntervalS * 1000);
    this.statsTimer.unref();
  }

  /**
   * Keeps publishing (and reconnecting) until every document in the outbox is acknowledged or
   * `timeoutMs` passes; resolves with how many are still waiting. The end of a run calls it before
   * stop(), so that a finite run does not leave accepted documents behind while the broker is down.
   */
  async drain(timeoutMs: number): Promise<number> {
    const outbox = this.outbox;
    if (!outbox) return 0;
    const left = () => outbox.getCounters().pending;
    if (left() === 0) return 0;
    this.logger.info(
      { pending: left(), drainTimeoutMs: timeoutMs, connection: this.connectionState },
      'waiting for the broker to acknowledge the outbox (mqtt.outbox.drainTimeoutMs)',
    );
    await new Promise<void>((resolve) => {
      const check = () => {
        if (left() === 0) done();
      };
      const done = () => {
        clearTimeout(timer);
        this.off('delivered', check);
        this.off('loss', check);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.on('delivered', check);
      this.on('loss', check);
    });
    return left();
  }

  /**
   * Stops publishing, waits briefly for unacknowledged events, says "offline", disconnects. Resolves
   * with the outbox's final counters: `pending` documents stay in the file, undelivered, for the
   * next start.
   */
  async stop(): Promise<OutboxCounters> {
    clearInterval(this.statsTimer);
    clearTimeout(this.outboxStatusTimer);
    this.statsTimer = undefined;
    await this.publisher?.stop(2000);
    await this.router?.idle();
    await this.connection?.stop();
    this.outbox?.close();
    const final = this.outbox?.getCounters() ?? emptyCounters();
    if (this.outbox) this.reportFinal(final);
    await this.broker?.stop();
    this.connection = undefined;
    this.publisher = undefined;
    this.outbox = undefined;
    this.router = undefined;
    this.broker = undefined;
    return final;
  }

  /** At the stop: every accepted document delivered, or how many stay on disk for the next start. */
  private reportFinal({ pending, accepted, delivered }: OutboxCounters): void {
    const path = this.cfg.outbox.path;
    if (pending === 0) {
      this.logger.info({ accepted, delivered }, 'outbox empty: every accepted document was delivered');
      return;
    }
    this.logger.error(
      { undelivered: pending, outbox: path, drainTimeoutMs: this.cfg.outbox.drainTimeoutMs },
      `${pending} accepted events/results were not delivered to the broker: they stay in ${path} and are published first at the next start`,
    );
  }

  /**
   * Makes an event durable and queues it for `<base>/<camera>/event` (QoS 1). Resolves once the event
   * is on disk; it is then published as soon as the broker is reachable, also after a restart.
   * Rejects (and stores nothing) for an event without a usable id or camera, or a full outbox under
   * reject-new.
   */
  async publishEvent(event: PublishableEvent): Promise<void> {
    await this.persist(event, 'event');
  }

  /**
   * The same for an inspection result, on `<base>/<camera>/result`: one outbox, so results and
   * events keep the order in which they were accepted.
   */
  async publishResult(result: PublishableEvent): Promise<void> {
    await this.persist(result, 'result');
  }

  /** Synchronous up to the outbox's queue (callers rely on the call order being the store order). */
  private persist(doc: PublishableEvent, kind: OutboxKind): Promise<number> {
    const outbox = this.outbox;
    if (!outbox) return Promise.reject(new Error('MQTT link is not started'));
    try {
      if (typeof doc?.id !== 'string' || doc.id.length === 0 || doc.id.length > 128) {
        throw new Error(`${kind}.id: expected a non-empty string of at most 128 characters`);
      }
      if (typeof doc.cameraId !== 'string') throw new Error(`${kind}.cameraId: expected a string`);
      this.topics.event(doc.cameraId); // throws for a camera id that cannot be a topic level
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const payload = Buffer.from(JSON.stringify(doc));
    return outbox.persistEvent({ cameraId: doc.cameraId, eventId: doc.id, payload, kind });
  }

  /**
   * Retained `<base>/<camera>/alarm` (the alarm state and its acknowledgement); remembered and
   * published again after every reconnect, like the camera state.
   */
  async publishAlarm(cameraId: string, alarm: Record<string, unknown>): Promise<void> {
    const topic = this.topics.alarm(cameraId);
    this.alarmStates.set(cameraId, alarm);
    if (!this.connection?.connected) return;
    await this.sendRetained(topic, alarm, false);
  }

  /**
   * Retained `<base>/info`: who this device is (site, line, software, model, cameras, dashboard
   * URL), for a fleet view; remembered and published again after every reconnect.
   */
  async publishInfo(info: Record<string, unknown>): Promise<void> {
    this.info = info;
    if (!this.connection?.connected) return;
    await this.sendRetained(this.topics.info, info, false);
  }

  /** Retained camera state; remembered and republished after every reconnect. */
  async publishState(cameraId: string, state: CameraStatePayload): Promise<void> {
    const topic = this.topics.state(cameraId);
    this.cameraStates.set(cameraId, state);
    if (!this.connection?.connected) return;
    await this.sendRetained(topic, state, true);
  }

  /**
   * A camera removed by a reload: its retained state and alarm are cleared on the broker (an empty
   * retained message), so no subscriber keeps seeing a camera that is gone.
   */
  async forgetCamera(cameraId: string): Promise<void> {
    this.cameraStates.delete(cameraId);
    this.alarmStates.delete(cameraId);
    if (!this.connection?.connected) return;
    for (const topic of [this.topics.state(cameraId), this.topics.alarm(cameraId)])
      await this.connection.publish(topic, Buffer.alloc(0), { qos: this.cfg.qos, retain: true });
  }

  /**
   * JPEG bytes on `<base>/<camera>/snapshot` (not retained, not stored: snapshots live on disk within
   * their retention). Returns false when not connected (the event itself is in the outbox).
   */
  async publishSnapshot(cameraId: string, eventId: string, jpeg: Buffer): Promise<boolean> {
    const topic = this.topics.snapshot(cameraId);
    if (!this.connection?.connected) return false;
    // Best effort (the JPEG is on disk, the event or result names it): a send that is not written
    // within SNAPSHOT_SEND_MS (a connection dying under it) is given up, so it never holds the
    // pipeline, which awaits it for back-pressure on a slow link.
    return withTimeout(
      this.connection.publish(topic, jpeg, {
        qos: 0,
        properties: { contentType: 'image/jpeg', userProperties: { eventId } },
      }),
      SNAPSHOT_SEND_MS,
    ).then(
      () => true,
      () => false,
    );
  }

  /**
   * Calls `handler` for every message on `filter` (MQTT wildcards allowed), e.g. trigger topics.
   * May be called before or after start(); renewed after reconnects. A throwing handler is logged.
   */
  subscribe(filter: string, handler: (payload: Buffer, topic: string) => void): void {
    if (filter.length === 0 || !isValidFilter(filter))
      throw new Error(`"${filter}" is not a valid MQTT topic filter`);
    this.extraSubscriptions.push({ filter, handler });
    if (this.connection) this.subscribeNow(filter);
  }

  /** Registers command handlers (may be called before or after start()). */
  onCommand(handlers: CommandHandlers): void {
    this.pendingHandlers = { ...this.pendingHandlers, ...handlers };
    this.router?.setHandlers(handlers);
  }

  getStats(): MqttLinkStats {
    const c = this.connection;
    return {
      connection: {
        state: this.connectionState,
        connects: c?.counters.connects ?? 0,
        disconnects: c?.counters.disconnects ?? 0,
        ...(c?.lastError !== undefined && { lastError: c.lastError }),
        protocolVersion: c?.protocolVersion ?? this.cfg.protocolVersion,
      },
      outbox: {
        ...(this.outbox?.getCounters() ?? emptyCounters()),
        inflight: this.publisher?.inflightCount ?? 0,
        maxEvents: this.cfg.outbox.maxEvents,
        overflow: this.cfg.outbox.overflow,
      },
      commands: { ...(this.router?.counters ?? { ok: 0, errors: 0, dropped: 0 }) },
    };
  }

  private subscribeNow(filter: string): void {
    this.connection
      ?.subscribe(filter, 1)
      .catch((err: Error) => this.logger.error({ filter, err: err.message }, 'cannot subscribe'));
  }

  private dispatchExtra(topic: string, payload: Buffer): void {
    for (const sub of this.extraSubscriptions) {
      if (!topicMatches(sub.filter, topic)) continue;
      try {
        sub.handler(payload, topic);
      } catch (err) {
        this.logger.warn({ topic, err: (err as Error).message }, 'message handler failed');
      }
    }
  }

  private onConnected(): void {
    if (this.info) this.sendRetained(this.topics.info, this.info, false).catch(() => undefined);
    for (const [cameraId, state] of this.cameraStates) {
      this.sendRetained(this.topics.state(cameraId), state, true).catch(() => undefined);
    }
    for (const [cameraId, alarm] of this.alarmStates) {
      this.sendRetained(this.topics.alarm(cameraId), alarm, false).catch(() => undefined);
    }
    this.publishOutboxStatus();
  }

  /** Retained JSON; camera state expires (a dead service's numbers go stale), an alarm does not. */
  private sendRetained(topic: string, payload: Record<string, unknown>, expires: boolean): Promise<void> {
    return this.connection!.publish(topic, JSON.stringify({ ...payload, ts: new Date().toISOString() }), {
      qos: this.cfg.qos,
      retain: true,
      properties: {
        contentType: 'application/json',
        ...(expires && { messageExpiryInterval: STATE_EXPIRY_S }),
      },
    });
  }

  private publishResponse(topic: string, response: CommandResponse, correlationData?: Buffer): Promise<void> {
    if (!this.connection?.connected) return Promise.resolve();
    return this.connection.publish(topic, JSON.stringify(response), {
      qos: this.cfg.qos,
      properties: { contentType: 'application/json', ...(correlationData && { correlationData }) },
    });
  }

  private publishStats(): void {
    if (!this.connection?.connected) return;
    let extra: Record<string, unknown> = {};
    try {
      extra = this.opts.statsProvider?.() ?? {};
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'stats provider failed');
    }
    const payload = {
      ts: new Date().toISOString(),
      uptimeS: Math.round((Date.now() - this.startedAt) / 1000),
      ...this.getStats(),
      ...extra,
    };
    this.connection
      .publish(this.topics.stats, JSON.stringify(payload), {
        qos: 0,
        properties: { contentType: 'application/json', messageExpiryInterval: this.cfg.statsIntervalS * 2 },
      })
      .catch(() => undefined);
    this.publishOutboxStatus();
  }

  /** Losses are published at most once a second, retained, so a late subscriber still sees them. */
  private scheduleOutboxStatus(): void {
    if (this.outboxStatusTimer) return;
    this.outboxStatusTimer = setTimeout(() => {
      this.outboxStatusTimer = undefined;
      this.publishOutboxStatus();
    }, 1000);
    this.outboxStatusTimer.unref();
  }

  private publishOutboxStatus(): void {
    if (!this.connection?.connected) return;
    const payload = { ts: new Date().toISOString(), ...this.getStats().outbox };
    this.connection
      .publish(this.topics.outbox, JSON.stringify(payload), {
        qos: 1,
        retain: true,
        properties: { contentType: 'application/json' },
      })
      .catch(() => undefined);
  }
}

function emptyCounters(): OutboxCounters {
  return { accepted: 0, delivered: 0, dropped: 0, rejected: 0, brokerRejected: 0, pending: 0 };
}
