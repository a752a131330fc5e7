// What the fleet view knows about every device, built only from what the devices publish under
// their base topics (docs/mqtt.md): retained availability (and its last will), info, outbox, each
// camera's retained state and alarm, periodic stats, events and results. No MQTT here: feed it
// (topic, payload) pairs. A payload it cannot read is counted and ignored; it never throws.
import { isValidFilter, topicMatches } from '../mqtt/topics.js';

export interface FleetAlarm {
  active: boolean;
  since?: string;
  severity?: string;
  acknowledgedBy?: string;
}

export interface FleetCamera {
  id: string;
  /** online, stalled, reconnecting, offline, suspended (the retained state). */
  status?: string;
  className?: string;
  lastScore?: number;
  lastScoreAt?: string;
  alarm?: FleetAlarm;
}

export interface FleetModel {
  sha256: string;
  version: string;
}

export interface FleetDevice {
  /** The device's base topic, e.g. site-a/adaclip-edge/line-1. */
  base: string;
  site?: string;
  line?: string;
  /** From the retained availability: true online, false offline (stopped, or its last will). */
  online?: boolean;
  software?: string;
  model?: FleetModel;
  dashboardUrl?: string;
  /** Documents waiting in the device's outbox, and lost ones (the retained outbox status). */
  outbox?: { pending: number; dropped: number; rejected: number; brokerRejected: number; at?: string };
  cameras: FleetCamera[];
  openAlarms: number;
  /** When the view last heard of the device. */
  lastSeen: string;
}

export interface FleetSnapshot {
  devices: FleetDevice[];
  summary: {
    devices: number;
    online: number;
    offline: number;
    openAlarms: number;
    /** Models in use and how many devices run each, most used first. */
    models: (FleetModel & { devices: number })[];
  };
  /** Messages that could not be read (not JSON, wrong shape): ignored. */
  unreadable: number;
}

interface Device {
  base: string;
  online?: boolean;
  info?: {
    site?: string;
    line?: string;
    software?: string;
    model?: FleetModel;
    dashboardUrl?: string;
    cameras?: string[];
  };
  outbox?: FleetDevice['outbox'];
  cameras: Map<string, CameraRecord>;
  lastSeen: number;
}

interface CameraRecord {
  status?: string;
  className?: string;
  model?: FleetModel;
  score?: { value: number; at: number };
  alarm?: FleetAlarm;
  /** A retained state or alarm was cleared (the camera was removed from the device). */
  removed?: boolean;
}

/** Documents larger than this are not read (the device's own are a few kB). */
const MAX_PAYLOAD = 256 * 1024;

export class FleetState {
  private readonly devices = new Map<string, Device>();
  private readonly depths: { filter: string; depth: number }[];
  private unreadable = 0;

  /**
   * `bases`: filters for the devices' base topics, with `+` for the varying levels, e.g.
   * `+/adaclip-edge/+` on a central broker fed by site bridges (deploy/site).
   */
  constructor(
    bases: readonly string[],
    private readonly now: () => number = Date.now,
  ) {
    if (bases.length === 0) throw new Error('at least one base topic filter');
    this.depths = bases.map((filter) => {
      if (!isValidFilter(filter) || filter.includes('#') || filter.length === 0)
        throw new Error(`base "${filter}" must be a topic filter with + wildcards only (no #)`);
      return { filter, depth: filter.split('/').length };
    });
  }

  /** The filters to subscribe to: exactly the topics read below (not snapshots, not requests). */
  subscriptions(): string[] {
    const rest = ['availability', 'info', 'outbox', 'stats', '+/state', '+/alarm', '+/event', '+/result'];
    return this.depths.flatMap(({ filter }) => rest.map((r) => `${filter}/${r}`));
  }

  /** One message from the broker. */
  ingest(topic: string, payload: Buffer): void {
    const split = this.split(topic);
    if (!split) return;
    const [base, rest] = split;
    if (payload.length > MAX_PAYLOAD) {
      this.unreadable++;
      return;
    }
    const text = payload.toString('utf8');
    const device = this.device(base);
    if (rest.length === 1 && rest[0] === 'availability') {
      if (text === 'online' || text === 'offline') device.online = text === 'online';
      else if (text.length > 0) this.unreadable++;
      return;
    }
    if (text.length === 0) {
      // a retained message cleared: a camera removed by a reload
      if (rest.length === 2 && (rest[1] === 'state' || rest[1] === 'alarm'))
        this.clearCamera(device, rest[0]);
      return;
    }
    const doc = parseObject(text);
    if (!doc) {
      this.unreadable++;
      return;
    }
    if (rest.length === 1) {
      if (rest[0] === 'info') this.onInfo(device, doc);
      else if (rest[0] === 'outbox') this.onOutbox(device, doc);
      else if (rest[0] === 'stats') this.onStats(device, doc);
      return;
    }
    const [cameraId, kind] = rest;
    if (kind === 'state') this.onState(device, cameraId, doc);
    else if (kind === 'alarm') this.onAlarm(device, cameraId, doc);
    else if (kind === 'event' || kind === 'result') {
      const score = num(doc.score);
      if (score !== undefined) this.score(device, cameraId, score, time(doc.capturedAt) ?? this.now());
    }
  }

  snapshot(): FleetSnapshot {
    const devices = [...this.devices.values()]
      .sort((a, b) => a.base.localeCompare(b.base))
      .map((d) => this.view(d));
    const models = new Map<string, FleetModel & { devices: number }>();
    for (const d of devices) {
      if (!d.model) continue;
      const key = `${d.model.sha256}\0${d.model.version}`;
      const m = models.get(key) ?? { ...d.model, devices: 0 };
      m.devices++;
      models.set(key, m);
    }
    return {
      devices,
      summary: {
        devices: devices.length,
        online: devices.filter((d) => d.online === true).length,
        offline: devices.filter((d) => d.online === false).length,
        openAlarms: devices.reduce((n, d) => n + d.openAlarms, 0),
        models: [...models.values()].sort(
          (a, b) => b.devices - a.devices || a.sha256.localeCompare(b.sha256),
        ),
      },
      unreadable: this.unreadable,
    };
  }

  private view(d: Device): FleetDevice {
    const ids = new Set([...(d.info?.cameras ?? []), ...d.cameras.keys()]);
    const cameras = [...ids]
      .filter((id) => !d.cameras.get(id)?.removed || d.info?.cameras?.includes(id))
      .sort()
      .map((id): FleetCamera => {
        const c = d.cameras.get(id);
        return {
          id,
          ...(c?.status !== undefined && { status: c.status }),
          ...(c?.className !== undefined && { className: c.className }),
          ...(c?.score && { lastScore: c.score.value, lastScoreAt: new Date(c.score.at).toISOString() }),
          ...(c?.alarm && { alarm: { ...c.alarm } }),
        };
      });
    // the device's own word on its model; else what its cameras' states say
    const model = d.info?.model ?? [...d.cameras.values()].find((c) => c.model)?.model;
    return {
      base: d.base,
      ...(d.info?.site !== undefined && { site: d.info.site }),
      ...(d.info?.line !== undefined && { line: d.info.line }),
      ...(d.online !== undefined && { online: d.online }),
      ...(d.info?.software !== undefined && { software: d.info.software }),
      ...(model && { model: { ...model } }),
      ...(d.info?.dashboardUrl !== undefined && { dashboardUrl: d.info.dashboardUrl }),
      ...(d.outbox && { outbox: { ...d.outbox } }),
      cameras,
      openAlarms: cameras.filter((c) => c.alarm?.active).length,
      lastSeen: new Date(d.lastSeen).toISOString(),
    };
  }

  /** [base, the levels after it] for a topic under one of the bases. */
  private split(topic: string): [string, string[]] | undefined {
    const levels = topic.split('/');
    for (const { filter, depth } of this.depths) {
      if (levels.length <= depth) continue;
      const base = levels.slice(0, depth).join('/');
      if (topicMatches(filter, base)) return [base, levels.slice(depth)];
    }
    return undefined;
  }

  private device(base: string): Device {
    let d = this.devices.get(base);
    if (!d) {
      d = { base, cameras: new Map(), lastSeen: this.now() };
      this.devices.set(base, d);
    }
    d.lastSeen = this.now();
    return d;
  }

  private camera(d: Device, id: string): CameraRecord {
    let c = d.cameras.get(id);
    if (!c) {
      c = {};
      d.cameras.set(id, c);
    }
    c.removed = false;
    return c;
  }

  private clearCamera(d: Device, id: string): void {
    const c = d.cameras.get(id);
    if (!c) return;
    c.removed = true;
    c.alarm = undefined;
    c.status = undefined;
  }

  private onInfo(d: Device, doc: Record<string, unknown>): void {
    const model = asModel(doc.model);
    const url = str(doc.dashboardUrl);
    d.info = {
      site: str(doc.site),
      line: str(doc.line),
      software: str(doc.software),
      ...(model && { model }),
      // only web addresses become links on the page
      ...(url !== undefined && /^https?:\/\//i.test(url) && { dashboardUrl: url }),
      cameras: Array.isArray(doc.cameras)
        ? doc.cameras.filter((c): c is string => typeof c === 'string')
        : undefined,
    };
  }

  private onOutbox(d: Device, doc: Record<string, unknown>): void {
    d.outbox = {
      pending: num(doc.pending) ?? 0,
      dropped: num(doc.dropped) ?? 0,
      rejected: num(doc.rejected) ?? 0,
      brokerRejected: num(doc.brokerRejected) ?? 0,
      ...(str(doc.ts) !== undefined && { at: str(doc.ts) }),
    };
  }

  private onStats(d: Device, doc: Record<string, unknown>): void {
    const at = time(doc.ts) ?? this.now();
    const cams = doc.cameras;
    if (typeof cams !== 'object' || cams === null) return;
    for (const [id, c] of Object.entries(cams as Record<string, unknown>)) {
      const score = num((c as { lastScore?: unknown } | null)?.lastScore);
      if (score !== undefined) this.score(d, id, score, at);
    }
  }

  private onState(d: Device, id: string, doc: Record<string, unknown>): void {
    const c = this.camera(d, id);
    c.status = str(doc.status) ?? c.status;
    c.className = str(doc.className) ?? c.className;
    c.model = asModel(doc.model) ?? c.model;
    const score = num(doc.lastScore);
    if (score !== undefined) this.score(d, id, score, time(doc.ts) ?? this.now());
  }

  private onAlarm(d: Device, id: string, doc: Record<string, unknown>): void {
    const c = this.camera(d, id);
    const ack = doc.acknowledged as { by?: unknown } | undefined;
    c.alarm = {
      active: doc.active === true,
      ...(str(doc.since) !== undefined && { since: str(doc.since) }),
      ...(str(doc.severity) !== undefined && { severity: str(doc.severity) }),
      ...(typeof ack === 'object' &&
        ack !== null &&
        str(ack.by) !== undefined && { acknowledgedBy: str(ack.by) }),
    };
  }

  /** The newest score wins, whichever document brought it. */
  private score(d: Device, id: string, value: number, at: number): void {
    const c = this.camera(d, id);
    if (!c.score || at >= c.score.at) c.score = { value, at };
  }
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v.slice(0, 512) : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const time = (v: unknown): number | undefined => {
  const t = typeof v === 'string' ? Date.parse(v) : NaN;
  return Number.isFinite(t) ? t : undefined;
};

function asModel(v: unknown): FleetModel | undefined {
  const m = v as { sha256?: unknown; version?: unknown } | null | undefined;
  const sha256 = str(m?.sha256);
  if (!sha256) return undefined;
  return { sha256, version: str(m?.version) ?? '' };
}
