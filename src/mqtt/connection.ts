// One MQTT connection with a life cycle: connect with a last will, announce itself with a retained
// birth message after every connect, reconnect with exponential backoff, expose its state. mqtt.js
// keeps unacknowledged QoS 1 publishes in memory and resends them after a reconnect; what must
// survive a process restart lives in the outbox (outbox.ts), not here.
import { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type IClientPublishOptions, type MqttClient } from 'mqtt';
import type { Logger } from '../util/log.js';
import { toClientOptions, type ResolvedMqttSettings } from './client-options.js';
import { redactUrl } from '../util/redact.js';

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface RetainedMessage {
  topic: string;
  payload: string | Buffer;
  qos: 0 | 1;
  retain: boolean;
}

export interface ConnectionOptions {
  settings: ResolvedMqttSettings;
  /** Sent by the broker if we vanish without a DISCONNECT (e.g. availability "offline"). */
  will?: RetainedMessage;
  /** Published after every (re)connect (e.g. availability "online"). */
  birth?: RetainedMessage;
  /** Published before a graceful disconnect, since the broker drops the will then. */
  farewell?: RetainedMessage;
  /**
   * Clean session (default true). The service keeps it clean on purpose: delivery guarantees for
   * events come from the disk outbox (a broker session cannot survive our restart), and commands
   * queued by the broker while we were away would run stale (a "trigger" minutes late is wrong).
   */
  clean?: boolean;
  /** MQTT 5 session expiry when clean is false. */
  sessionExpiryS?: number;
  backoff?: { initialMs: number; maxMs: number };
}

export type MessageHandler = (topic: string, payload: Buffer, packet: mqtt.IPublishPacket) => void;

export interface PublishOptions {
  qos: 0 | 1;
  retain?: boolean;
  /** MQTT 5 only; dropped on 3.1.1. */
  properties?: IClientPublishOptions['properties'];
}

export class MqttConnection extends EventEmitter<{
  state: [ConnectionState];
  connect: [{ sessionPresent: boolean }];
  message: Parameters<MessageHandler>;
}> {
  private client?: MqttClient;
  private current: ConnectionState = 'idle';
  private attempts = 0;
  private readonly subscriptions = new Map<string, 0 | 1>();
  /** Counters for stats. */
  readonly counters = { connects: 0, disconnects: 0 };
  lastError?: string;
  /**
   * MQTT 5 CONNACK "Receive Maximum": QoS 1 publishes the broker accepts unacknowledged (65535 when
   * it does not say). mqtt.js does not enforce it for outgoing messages; the outbox publisher does.
   */
  serverReceiveMaximum = 65535;

  constructor(
    private readonly opts: ConnectionOptions,
    private readonly logger: Logger,
  ) {
    super();
  }

  get state(): ConnectionState {
    return this.current;
  }

  get connected(): boolean {
    return this.current === 'connected';
  }

  get protocolVersion(): 4 | 5 {
    return this.opts.settings.protocolVersion;
  }

  get clientId(): string {
    return this.opts.settings.clientId;
  }

  /** Starts connecting in the background; does not wait (the outbox holds events meanwhile). */
  start(): void {
    if (this.client) return;
    const s = this.opts.settings;
    const backoff = this.opts.backoff ?? { initialMs: 500, maxMs: 30_000 };
    const options: IClientOptions = {
      ...toClientOptions(s),
      clean: this.opts.clean ?? true,
      reconnectPeriod: backoff.initialMs,
      resubscribe: true,
      // QoS 0 (snapshots, stats, Sparkplug data) while offline fails at once instead of waiting in
      // mqtt.js's memory for a reconnect: a caller awaiting it (the snapshot send after a result)
      // held the whole pipeline for as long as the broker was down. What must survive an outage
      // goes through the outbox at QoS 1.
      queueQoSZero: false,
    };
    if (this.opts.will) options.will = { ...this.opts.will, payload: Buffer.from(this.opts.will.payload) };
    if (s.protocolVersion === 5 && options.clean === false) {
      options.properties = { sessionExpiryInterval: this.opts.sessionExpiryS ?? 3600 };
    }
    this.setState('connecting');
    this.logger.info(
      { url: redactUrl(s.url), clientId: s.clientId, protocolVersion: s.protocolVersion },
      'MQTT connecting',
    );
    const client = mqtt.connect(s.url, options);
    this.client = client;

    client.on('connect', (connack) => {
      // mqtt.js writes a PUBLISH in several chunks; with Nagle's algorithm the later chunks wait for
      // the broker's delayed ACK (~10-40 ms per event). Events are latency-sensitive: no Nagle.
      (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
      this.attempts = 0;
      this.serverReceiveMaximum = connack.properties?.receiveMaximum ?? 65535;
      client.options.reconnectPeriod = backoff.initialMs;
      this.counters.connects++;
      this.lastError = undefined;
      this.setState('connected');
      this.logger.info({ sessionPresent: connack.sessionPresent }, 'MQTT connected');
      if (this.opts.birth) {
        const b = this.opts.birth;
        client.publish(b.topic, b.payload, { qos: b.qos, retain: b.retain }, (err) => {
          if (err) this.logger.warn({ err: err.message, topic: b.topic }, 'MQTT birth message not published');
        });
      }
      this.emit('connect', { sessionPresent: connack.sessionPresent });
    });
    client.on('reconnect', () => {
      // Exponential backoff with jitter: mqtt.js reads reconnectPeriod when it arms the next retry.
      this.attempts++;
      const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(this.attempts, 16));
      client.options.reconnectPeriod = Math.round(base * (0.8 + 0.4 * Math.random()));
      this.setState('reconnecting');
    });
    client.on('close', () => {
      if (this.current === 'connected') {
        this.counters.disconnects++;
        this.logger.warn('MQTT connection lost; reconnecting');
      }
      if (this.current !== 'closed') this.setState('reconnecting');
    });
    client.on('error', (err) => {
      const msg = describeMqttError(err, s);
      if (msg !== this.lastError) this.logger.warn({ err: msg }, 'MQTT error');
      this.lastError = msg;
    });
    client.on('message', (topic, payload, packet) => this.emit('message', topic, payload, packet));
  }

  /** Resolves when the broker acknowledged (PUBACK at QoS 1, written to the socket at QoS 0). */
  publish(topic: string, payload: string | Buffer, opts: PublishOptions): Promise<void> {
    const client = this.client;
    if (!client) return Promise.reject(new Error('MQTT connection not started'));
    const pubOpts: IClientPublishOptions = { qos: opts.qos, retain: opts.retain ?? false };
    if (opts.properties && this.protocolVersion === 5) pubOpts.properties = opts.properties;
    return new Promise((resolve, reject) => {
      client.publish(topic, payload, pubOpts, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Subscribes now and again after every reconnect (mqtt.js resubscribes on a clean session). */
  async subscribe(filter: string, qos: 0 | 1): Promise<void> {
    this.subscriptions.set(filter, qos);
    const client = this.client;
    if (!client) throw new Error('MQTT connection not started');
    await new Promise<void>((resolve, reject) => {
      client.subscribe(filter, { qos }, (err, granted) => {
        if (err) return reject(err);
        const refused = granted?.find((g) => (g.qos & 0x80) !== 0);
        if (refused) return reject(new Error(`broker refused the subscription to ${filter}`));
        resolve();
      });
    });
  }

  /** Resolves true once connected, false after timeoutMs. */
  waitConnected(timeoutMs: number): Promise<boolean> {
    if (this.connected) return Promise.resolve(true);
    return new Promise((resolve) => {
      const onConnect = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.off('connect', onConnect);
        resolve(false);
      }, timeoutMs);
      this.once('connect', onConnect);
    });
  }

  /** Graceful stop: farewell message (the will is not sent on DISCONNECT), then disconnect. */
  async stop(timeoutMs = 2000): Promise<void> {
    const client = this.client;
    if (!client) return;
    if (this.connected && this.opts.farewell) {
      const f = this.opts.farewell;
      await withTimeout(this.publish(f.topic, f.payload, { qos: f.qos, retain: f.retain }), timeoutMs).catch(
        () => undefined,
      );
    }
    this.setState('closed');
    await withTimeout(
      new Promise<void>((resolve) => client.end(false, {}, () => resolve())),
      timeoutMs,
    ).catch(() => client.end(true));
    this.client = undefined;
  }

  private setState(state: ConnectionState): void {
    if (state === this.current) return;
    this.current = state;
    this.emit('state', state);
  }
}

/** A clear message for connection errors, naming the config key to look at; never a secret. */
export function describeMqttError(err: Error & { code?: string | number }, s: ResolvedMqttSettings): string {
  const code = err.code;
  const where = redactUrl(s.url);
  switch (code) {
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'CERT_SIGNATURE_FAILURE':
      return `TLS: the certificate of ${where} is not signed by a CA in mqtt.tls.ca (${code})`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `TLS: the certificate of ${where} does not name this host (set mqtt.tls.servername?): ${err.message}`;
    case 'CERT_HAS_EXPIRED':
      return `TLS: the certificate of ${where} has expired`;
    case 'ECONNREFUSED':
      return `connection refused by ${where} (is the broker running?)`;
    case 'ENOTFOUND':
      return `broker host of ${where} not found`;
    case 4:
    case 134:
      return `broker ${where} refused the connection: bad username or password (mqtt.username, mqtt.password/passwordFile)`;
    case 5:
    case 135:
      // Mosquitto answers a wrong password with "not authorised" too
      return `broker ${where} refused the connection: not authorised (check mqtt.username, mqtt.password/passwordFile, the client certificate and the broker's ACL)`;
    case 1:
    case 132:
      return `broker ${where} does not accept MQTT protocol version ${s.protocolVersion} (mqtt.protocolVersion)`;
    default:
      return `${where}: ${err.message}${code !== undefined ? ` (${code})` : ''}`;
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
