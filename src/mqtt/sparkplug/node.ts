// A Sparkplug B 3.0 edge node: one edge node for the service, one device per camera. The codec comes
// from sparkplug-payload; the session state machine is ours because the npm client is not compliant
// (NDEATH at QoS 0, bdSeq never incremented, no STATE). Life cycle per MQTT session:
//   take next bdSeq (persisted) -> CONNECT with the NDEATH(bdSeq) will at QoS 1 -> subscribe NCMD,
//   DCMD and (optionally) the primary host's STATE -> [wait for the host ONLINE] -> NBIRTH (seq 0)
//   -> one DBIRTH per online camera -> DDATA on change / DDEATH / DBIRTH as cameras come and go.
// Lost connection: a new session with bdSeq + 1. Host OFFLINE: NDEATH, disconnect, new session.
import { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from '../../util/log.js';
import { BdSeqStore } from './bdseq.js';
import {
  DATATYPE_NUMBER,
  decodePayload,
  encodePayload,
  toNumber,
  type DatatypeOf,
  type EncodeOptions,
  type UMetric,
  type UPayload,
} from './codec.js';
import {
  CAMERA_METRICS,
  NODE_METRIC,
  cameraAlias,
  defaultCameraMetrics,
  type CameraMetricKey,
  type CameraMetrics,
  type MetricDef,
} from './metrics.js';
import { checkSparkplugId, deviceTopic, nodeTopic, stateTopic } from './topics.js';

export interface SparkplugCamera {
  id: string;
  className: string;
  initial?: Partial<CameraMetrics>;
}

export interface SparkplugWrite {
  cameraId: string;
  className?: string;
  thresholds?: { image?: number; pixel?: number; clear?: number; minRegionAreaPct?: number };
  /** Control/Suspended (and Control/Suspend Duration s, 0 or absent: until resumed). */
  suspend?: { suspended: boolean; durationS?: number };
}

/** Applies a validated DCMD write; throw to reject it. May return the effective metrics to report. */
export type WriteHandler = (
  w: SparkplugWrite,
) => Partial<CameraMetrics> | void | Promise<Partial<CameraMetrics> | void>;

export interface SparkplugNodeOptions {
  url: string;
  groupId: string;
  edgeNodeId: string;
  /** When set, no births until spBv1.0/STATE/<primaryHostId> says the host is online. */
  primaryHostId?: string;
  /** File that keeps the last bdSeq across restarts. */
  bdSeqFile: string;
  cameras: SparkplugCamera[];
  /** Connection settings (auth, TLS, keepalive, protocol version); the will and session are ours. */
  mqtt?: Omit<IClientOptions, 'will' | 'clean' | 'reconnectPeriod'>;
  logger?: Logger;
  reconnect?: { initialMs?: number; maxMs?: number };
  softwareVersion?: string;
  /** The active model bundle (sha256 of model.onnx, manifest version), in the NBIRTH. */
  model?: { sha256: string; version: string };
}

export type NodeState = 'stopped' | 'connecting' | 'waiting-for-host' | 'online';

interface Device {
  index: number;
  id: string;
  online: boolean;
  values: CameraMetrics;
  /** Values as last published (birth or data), for report by exception. */
  published: Partial<CameraMetrics>;
}

const THRESHOLD_KEYS: Partial<Record<CameraMetricKey, keyof NonNullable<SparkplugWrite['thresholds']>>> = {
  thresholdImage: 'image',
  thresholdPixel: 'pixel',
  thresholdClear: 'clear',
  minRegionAreaPct: 'minRegionAreaPct',
};

/** NCMD/DCMD/STATE payloads above this are dropped unread (ours are tiny; this bounds decode work). */
export const MAX_COMMAND_BYTES = 64 * 1024;

export class SparkplugNode extends EventEmitter {
  private client?: MqttClient;
  private _state: NodeState = 'stopped';
  private bdSeq = -1;
  private seq = 0;
  private born = false;
  private hostOnline = false;
  private hostTimestamp = -Infinity;
  private stopping = false;
  private reconnectTimer?: NodeJS.Timeout;
  private backoffMs: number;
  private writeHandler?: WriteHandler;
  private commandChain: Promise<void> = Promise.resolve();
  private readonly devices = new Map<string, Device>();
  private readonly bdSeqStore: BdSeqStore;
  private readonly byName = new Map<string, MetricDef<CameraMetricKey>>();
  private readonly byAliasOffset = new Map<number, MetricDef<CameraMetricKey>>();
  /** The next device's index: never reused within a run, so no alias names two cameras. */
  private nextIndex = 0;

  constructor(private readonly opts: SparkplugNodeOptions) {
    super();
    checkSparkplugId('group id', opts.groupId);
    checkSparkplugId('edge node id', opts.edgeNodeId);
    if (opts.primaryHostId !== undefined) checkSparkplugId('primary host id', opts.primaryHostId);
    opts.cameras.forEach((c, index) => {
      checkSparkplugId('device (camera) id', c.id);
      if (this.devices.has(c.id)) throw new Error(`camera "${c.id}" listed twice`);
      const values = { ...defaultCameraMetrics(c.className), ...(c.initial ?? {}) };
      this.devices.set(c.id, { index, id: c.id, online: true, values, published: {} });
      this.nextIndex = index + 1;
    });
    CAMERA_METRICS.forEach((d, i) => {
      this.byName.set(d.name, d);
      this.byAliasOffset.set(i, d);
    });
    this.bdSeqStore = new BdSeqStore(opts.bdSeqFile);
    this.backoffMs = opts.reconnect?.initialMs ?? 1000;
  }

  get state(): NodeState {
    return this._state;
  }

  /** bdSeq of the current (or last) session. */
  get currentBdSeq(): number {
    return this.bdSeq;
  }

  onWrite(handler: WriteHandler): void {
    this.writeHandler = handler;
  }

  start(): void {
    if (this._state !== 'stopped') return;
    this.stopping = false;
    this.connect();
  }

  /** Graceful stop: NDEATH (the will is not sent on a clean DISCONNECT), then disconnect. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    if (client?.connected) {
      try {
        await client.publishAsync(
          nodeTopic(this.opts.groupId, 'NDEATH', this.opts.edgeNodeId),
          this.deathPayload(this.bdSeq),
          {
            qos: 1,
            retain: false,
          },
        );
      } catch (err) {
        this.opts.logger?.warn({ err }, 'sparkplug: NDEATH on stop not acknowledged');
      }
      await client.endAsync().catch(() => undefined);
    } else client?.end(true);
    this.born = false;
    this._state = 'stopped';
  }

  /** Current metric values of a camera (a copy). */
  metrics(cameraId: string): CameraMetrics {
    return { ...this.device(cameraId).values };
  }

  /** Records new values; publishes the changed ones as DDATA when born (report by exception). */
  update(cameraId: string, patch: Partial<CameraMetrics>): void {
    const dev = this.device(cameraId);
    for (const def of CAMERA_METRICS) {
      const v = patch[def.key];
      if (v === undefined) continue;
      if (!valueFits(def, v)) {
        this.opts.logger?.warn(
          { cameraId, metric: def.name, value: v },
          'sparkplug: metric value of the wrong type ignored',
        );
        continue;
      }
      (dev.values as unknown as Record<string, unknown>)[def.key] = v;
    }
    if (!this.born || !dev.online) return;
    const now = Date.now();
    const changed: UMetric[] = [];
    CAMERA_METRICS.forEach((def, i) => {
      const v = dev.values[def.key];
      if (dev.published[def.key] === v) return;
      changed.push({ alias: cameraAlias(dev.index, i), type: def.type, value: v, timestamp: now });
      (dev.published as Record<string, unknown>)[def.key] = v;
    });
    if (changed.length === 0) return;
    // the datatype is known from the DBIRTH: "SHOULD NOT be included ... in NDATA, NCMD, DDATA" (3.0)
    this.publish(
      deviceTopic(this.opts.groupId, 'DDATA', this.opts.edgeNodeId, dev.id),
      { timestamp: now, seq: this.nextSeq(), metrics: changed },
      { datatypes: false },
    );
  }

  /** A camera going offline publishes DDEATH; coming back publishes a fresh DBIRTH. */
  setCameraOnline(cameraId: string, online: boolean): void {
    const dev = this.device(cameraId);
    if (dev.online === online) return;
    dev.online = online;
    dev.values.cameraState = online ? 'online' : 'offline';
    if (!this.born) return;
    if (online) this.publishDeviceBirth(dev);
    else
      this.publish(deviceTopic(this.opts.groupId, 'DDEATH', this.opts.edgeNodeId, dev.id), {
        timestamp: Date.now(),
        seq: this.nextSeq(),
      });
  }

  /**
   * A camera started by a reload (or restarted with a changed config, keeping its aliases): its
   * DBIRTH follows at once when the node is born.
   */
  addCamera(c: SparkplugCamera): void {
    checkSparkplugId('device (camera) id', c.id);
    const index = this.devices.get(c.id)?.index ?? this.nextIndex++;
    const values = { ...defaultCameraMetrics(c.className), ...(c.initial ?? {}) };
    const dev: Device = { index, id: c.id, online: true, values, published: {} };
    this.devices.set(c.id, dev);
    if (this.born) this.publishDeviceBirth(dev);
  }

  /** A camera removed by a reload: DDEATH, and the device is gone from later births. */
  removeCamera(cameraId: string): void {
    const dev = this.device(cameraId);
    this.devices.delete(cameraId);
    if (this.born && dev.online)
      this.publish(deviceTopic(this.opts.groupId, 'DDEATH', this.opts.edgeNodeId, dev.id), {
        timestamp: Date.now(),
        seq: this.nextSeq(),
      });
  }

  /** A new model bundle is active: the node is born again with its sha256 and version. */
  setModel(model: { sha256: string; version: string }): void {
    this.opts.model = model;
    if (this.born) this.rebirth();
  }

  /** Re-publishes NBIRTH and every DBIRTH (NCMD Node Control/Rebirth, or the JSON rebirth command). */
  rebirth(): void {
    if (!this.client?.connected || (this.opts.primaryHostId && !this.hostOnline)) {
      this.opts.logger?.info(
        'sparkplug: rebirth requested while not able to publish births; they follow when possible',
      );
      return;
    }
    this.birth();
    this.emit('rebirth');
  }

  private device(cameraId: string): Device {
    const dev = this.devices.get(cameraId);
    if (!dev) throw new Error(`sparkplug: unknown camera "${cameraId}"`);
    return dev;
  }

  private connect(): void {
    if (this.stopping) return;
    const { groupId: g, edgeNodeId: e } = this.opts;
    const next = this.bdSeqStore.next();
    this.bdSeq = next.value;
    if (next.error) {
      // the session goes on with the number; a restart may reuse it, so it is said loudly
      this.opts.logger?.error({ bdSeq: next.value, err: next.error.message }, 'sparkplug: bdSeq not stored');
      this.emit('bdseq-write-failed', next.error);
    }
    this.born = false;
    this.hostOnline = false;
    this.hostTimestamp = -Infinity;
    this._state = 'connecting';
    const client = mqtt.connect(this.opts.url, {
      protocolVersion: 4,
      clientId: `spb-${g}-${e}`,
      ...this.opts.mqtt,
      clean: true,
      reconnectPeriod: 0, // we reconnect ourselves: each new session needs a new will (bdSeq)
      will: {
        topic: nodeTopic(g, 'NDEATH', e),
        payload: this.deathPayload(this.bdSeq),
        qos: 1,
        retain: false,
      },
    });
    this.client = client;
    client.on('connect', () => this.onConnect(client));
    client.on('message', (topic, payload) => this.onMessage(client, topic, payload));
    client.on('error', (err) => this.opts.logger?.warn({ err: err.message }, 'sparkplug: MQTT error'));
    client.on('close', () => this.onClose(client));
  }

  private onConnect(client: MqttClient): void {
    if (client !== this.client) return;
    this.backoffMs = this.opts.reconnect?.initialMs ?? 1000;
    const { groupId: g, edgeNodeId: e, primaryHostId } = this.opts;
    const subs: Record<string, { qos: 1 }> = {
      [nodeTopic(g, 'NCMD', e)]: { qos: 1 },
      [`spBv1.0/${g}/DCMD/${e}/+`]: { qos: 1 },
    };
    if (primaryHostId) subs[stateTopic(primaryHostId)] = { qos: 1 };
    this.opts.logger?.info({ bdSeq: this.bdSeq }, 'sparkplug: connected');
    this.emit('connected', this.bdSeq);
    client.subscribe(subs, (err) => {
      if (client !== this.client) return;
      if (err) {
        this.opts.logger?.warn({ err: err.message }, 'sparkplug: subscribe failed; reconnecting');
        client.end(true);
        return;
      }
      if (!primaryHostId) this.birth();
      else if (!this.born) this._state = 'waiting-for-host';
    });
  }

  private onClose(client: MqttClient): void {
    if (client !== this.client) return;
    const wasBorn = this.born;
    this.born = false;
    this.client = undefined;
    client.removeAllListeners('close');
    client.end(true);
    if (this.stopping) return;
    this._state = 'connecting';
    if (wasBorn) this.opts.logger?.warn({ bdSeq: this.bdSeq }, 'sparkplug: connection lost');
    this.emit('closed');
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.opts.reconnect?.maxMs ?? 30_000);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private onMessage(client: MqttClient, topic: string, payload: Buffer): void {
    if (client !== this.client) return;
    const { groupId: g, edgeNodeId: e, primaryHostId } = this.opts;
    if (payload.length > MAX_COMMAND_BYTES) {
      this.opts.logger?.warn({ topic, bytes: payload.length }, 'sparkplug: oversized message ignored');
      if (topic.includes('/DCMD/'))
        this.emit('write-rejected', { cameraId: topic.split('/').pop(), problems: ['too large'] });
      return;
    }
    if (primaryHostId && topic === stateTopic(primaryHostId)) return this.onHostState(client, payload);
    if (topic === nodeTopic(g, 'NCMD', e)) return this.queue(() => this.onNodeCommand(payload));
    const prefix = `spBv1.0/${g}/DCMD/${e}/`;
    if (topic.startsWith(prefix)) {
      const cameraId = topic.slice(prefix.length);
      return this.queue(() => this.onDeviceCommand(cameraId, payload));
    }
  }

  // Commands run one after another, in arrival order, and never throw out of the message handler.
  private queue(fn: () => void | Promise<void>): void {
    this.commandChain = this.commandChain.then(fn).catch((err: unknown) => {
      this.opts.logger?.warn({ err }, 'sparkplug: command failed');
    });
  }

  private onHostState(client: MqttClient, payload: Buffer): void {
    const st = parseHostState(payload);
    if (!st) {
      this.opts.logger?.warn(
        { payload: payload.toString('utf8', 0, 200) },
        'sparkplug: unreadable primary host STATE ignored',
      );
      return;
    }
    // 3.0: a STATE older than the last one seen is stale (a retained message racing a new one)
    if (st.timestamp !== undefined) {
      if (st.timestamp < this.hostTimestamp) return;
      this.hostTimestamp = st.timestamp;
    }
    this.hostOnline = st.online;
    this.emit('host-state', st.online);
    if (st.online) {
      if (!this.born) this.birth();
      return;
    }
    if (this.born) {
      // the host is gone: end this session (NDEATH first) and start a new one that waits for it
      this.opts.logger?.warn('sparkplug: primary host offline; ending the session');
      this.born = false;
      client.publish(
        nodeTopic(this.opts.groupId, 'NDEATH', this.opts.edgeNodeId),
        this.deathPayload(this.bdSeq),
        { qos: 1, retain: false },
        () => client.end(),
      );
    }
  }

  private onNodeCommand(payload: Buffer): void {
    const decoded = this.decode(payload, 'NCMD', (m) =>
      m.name === NODE_METRIC.rebirth.name ? DATATYPE_NUMBER.Boolean : undefined,
    );
    if (!decoded) return;
    for (const m of decoded.metrics ?? []) {
      // by name only: the NBIRTH gives Node Control/Rebirth no alias (Sparkplug 3.0)
      if (m.name === NODE_METRIC.rebirth.name && m.value === true) this.rebirth();
      else
        this.opts.logger?.warn({ metric: m.name ?? m.alias }, 'sparkplug: unsupported NCMD metric ignored');
    }
  }

  private async onDeviceCommand(cameraId: string, payload: Buffer): Promise<void> {
    const dev = this.devices.get(cameraId);
    if (!dev) {
      this.reject(cameraId, [`unknown device "${cameraId}"`]);
      return;
    }
    const decoded = this.decode(payload, 'DCMD', (m) => {
      const def = this.resolve(dev, m as UMetric);
      return def ? DATATYPE_NUMBER[def.type] : undefined;
    });
    if (!decoded) return this.reject(cameraId, ['undecodable payload']);
    const write: SparkplugWrite = { cameraId };
    const problems: string[] = [];
    const metrics = decoded.metrics ?? [];
    if (metrics.length === 0) problems.push('no metrics');
    for (const m of metrics) {
      const def = this.resolve(dev, m);
      const label = m.name ?? `alias ${String(m.alias)}`;
      if (!def) problems.push(`unknown metric ${label}`);
      else if (!def.writable) problems.push(`${def.name} is read-only`);
      else if (def.key === 'suspended') {
        if (m.type !== 'Boolean' || typeof m.value !== 'boolean')
          problems.push(`${def.name} needs a Boolean value`);
        else write.suspend = { ...write.suspend, suspended: m.value };
      } else if (def.key === 'suspendDurationS') {
        const v = m.value;
        if (
          (m.type !== 'Double' && m.type !== 'Float') ||
          typeof v !== 'number' ||
          !Number.isFinite(v) ||
          v < 0
        )
          problems.push(`${def.name} needs a finite Double or Float value >= 0`);
        else write.suspend = { suspended: write.suspend?.suspended as boolean, durationS: v };
      } else if (def.key === 'className') {
        if (m.type !== 'String' || typeof m.value !== 'string')
          problems.push(`${def.name} needs a String value`);
        else write.className = m.value;
      } else {
        const v = m.value;
        if ((m.type !== 'Double' && m.type !== 'Float') || typeof v !== 'number' || !Number.isFinite(v))
          problems.push(`${def.name} needs a finite Double or Float value`);
        else (write.thresholds ??= {})[THRESHOLD_KEYS[def.key]!] = v;
      }
    }
    if (write.suspend && write.suspend.suspended !== true && write.suspend.durationS !== undefined)
      problems.push('Control/Suspend Duration s needs Control/Suspended = true in the same DCMD');
    if (problems.length) return this.reject(cameraId, problems);
    if (!this.writeHandler) return this.reject(cameraId, ['no write handler installed']);
    let effective: Partial<CameraMetrics> | void;
    try {
      effective = await this.writeHandler(write);
    } catch (err) {
      return this.reject(cameraId, [(err as Error).message]);
    }
    this.opts.logger?.info({ write }, 'sparkplug: DCMD write applied');
    this.update(cameraId, effective ?? writeToMetrics(write));
    this.emit('write-applied', write);
  }

  private reject(cameraId: string, problems: string[]): void {
    this.opts.logger?.warn({ cameraId, problems }, 'sparkplug: DCMD write ignored, nothing changed');
    this.emit('write-rejected', { cameraId, problems });
  }

  private resolve(dev: Device, m: UMetric): MetricDef<CameraMetricKey> | undefined {
    if (m.name != null) return this.byName.get(m.name);
    if (m.alias == null) return undefined;
    const offset = toNumber(m.alias) - cameraAlias(dev.index, 0);
    return offset >= 0 && offset < 1000 ? this.byAliasOffset.get(offset) : undefined;
  }

  private decode(payload: Buffer, what: string, typeOf: DatatypeOf): UPayload | undefined {
    try {
      return decodePayload(payload, typeOf);
    } catch (err) {
      this.opts.logger?.warn({ err: (err as Error).message }, `sparkplug: undecodable ${what} ignored`);
      return undefined;
    }
  }

  private birth(): void {
    const client = this.client;
    if (!client?.connected) return;
    const { groupId: g, edgeNodeId: e } = this.opts;
    const now = Date.now();
    this.seq = 0;
    this.publish(nodeTopic(g, 'NBIRTH', e), {
      timestamp: now,
      seq: this.nextSeq(),
      metrics: [
        { name: NODE_METRIC.bdSeq.name, type: NODE_METRIC.bdSeq.type, value: this.bdSeq, timestamp: now },
        { ...NODE_METRIC.rebirth, value: false, timestamp: now },
        { ...NODE_METRIC.cameras, value: this.devices.size, timestamp: now },
        { ...NODE_METRIC.version, value: this.opts.softwareVersion ?? 'unknown', timestamp: now },
        ...(this.opts.model
          ? [
              { ...NODE_METRIC.modelSha256, value: this.opts.model.sha256, timestamp: now },
              { ...NODE_METRIC.modelVersion, value: this.opts.model.version, timestamp: now },
            ]
          : []),
      ],
    });
    for (const dev of this.devices.values()) if (dev.online) this.publishDeviceBirth(dev);
    this.born = true;
    this._state = 'online';
    this.emit('birth', this.bdSeq);
  }

  private publishDeviceBirth(dev: Device): void {
    const now = Date.now();
    const metrics: UMetric[] = CAMERA_METRICS.map((def, i) => ({
      name: def.name,
      alias: cameraAlias(dev.index, i),
      type: def.type,
      value: dev.values[def.key],
      timestamp: now,
    }));
    dev.published = { ...dev.values };
    this.publish(deviceTopic(this.opts.groupId, 'DBIRTH', this.opts.edgeNodeId, dev.id), {
      timestamp: now,
      seq: this.nextSeq(),
      metrics,
    });
  }

  private nextSeq(): number {
    const s = this.seq;
    this.seq = (this.seq + 1) % 256;
    return s;
  }

  // Births and data go at QoS 0 as the spec requires; a lost one is repaired by a rebirth request.
  private publish(topic: string, payload: UPayload, encoding?: EncodeOptions): void {
    const client = this.client;
    if (!client) return;
    client.publish(topic, encodePayload(payload, encoding), { qos: 0, retain: false }, (err) => {
      if (err) this.opts.logger?.warn({ err: err.message, topic }, 'sparkplug: publish failed');
    });
  }

  private deathPayload(bdSeq: number): Buffer {
    return encodePayload({
      timestamp: Date.now(),
      metrics: [
        { name: NODE_METRIC.bdSeq.name, type: NODE_METRIC.bdSeq.type, value: bdSeq, timestamp: Date.now() },
      ],
    });
  }
}

function valueFits(def: MetricDef, v: unknown): boolean {
  switch (def.type) {
    case 'Boolean':
      return typeof v === 'boolean';
    case 'String':
      return typeof v === 'string';
    case 'Int32':
    case 'Int64':
    case 'UInt64':
      return typeof v === 'number' && Number.isInteger(v) && (def.type !== 'UInt64' || v >= 0);
    default:
      return typeof v === 'number' && Number.isFinite(v);
  }
}

function writeToMetrics(w: SparkplugWrite): Partial<CameraMetrics> {
  const m: Partial<CameraMetrics> = {};
  if (w.className !== undefined) m.className = w.className;
  const t = w.thresholds ?? {};
  if (t.image !== undefined) m.thresholdImage = t.image;
  if (t.pixel !== undefined) m.thresholdPixel = t.pixel;
  if (t.clear !== undefined) m.thresholdClear = t.clear;
  if (t.minRegionAreaPct !== undefined) m.minRegionAreaPct = t.minRegionAreaPct;
  if (w.suspend) {
    m.suspended = w.suspend.suspended;
    m.suspendDurationS = w.suspend.durationS ?? 0;
  }
  return m;
}

/** Sparkplug 3.0 STATE is JSON {"online": bool, "timestamp": ms}; 2.2 hosts publish ONLINE/OFFLINE. */
export function parseHostState(payload: Buffer): { online: boolean; timestamp?: number } | undefined {
  const text = payload.toString('utf8').trim();
  if (text === 'ONLINE') return { online: true };
  if (text === 'OFFLINE') return { online: false };
  try {
    const v = JSON.parse(text) as { online?: unknown; timestamp?: unknown };
    if (typeof v.online !== 'boolean') return undefined;
    return typeof v.timestamp === 'number'
      ? { online: v.online, timestamp: v.timestamp }
      : { online: v.online };
  } catch {
    return undefined;
  }
}
