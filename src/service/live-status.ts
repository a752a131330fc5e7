// What the service knows about itself right now, for the dashboard, the status command, the
// retained camera state topics and the periodic stats: each camera's state (its source's, or
// "suspended" while an operator suspended it), last decision, fps and latency, and its alarm.
import type { Calibration, Config } from '../config/schema.js';
import type { CameraStatus, ServiceStatus } from '../dashboard/types.js';
import type { CameraStatePayload } from '../mqtt/mqtt-link.js';
import type { AlarmState } from '../operator/alarm-board.js';
import type { Suspension } from '../operator/suspensions.js';
import type { Decider, DecideResult } from '../postprocess/decide.js';
import type { ServiceBus } from './event-bus.js';
import { redactUrl } from '../util/redact.js';

const FPS_WINDOW_MS = 10_000;

interface CameraLive {
  state: string;
  className: string;
  thresholds: { image: number; pixel: number; clear: number };
  /** How the thresholds were calibrated; dropped when they are later set by hand. */
  calibration?: Calibration;
  lastScore?: number;
  lastSeq?: number;
  lastFrameAtWall?: number;
  anomalous?: boolean;
  lastEventId?: string;
  lastLatencyMs?: number;
  frames: number;
  /** Decision times (performance.now()) within the fps window. */
  recent: number[];
  suspension?: Suspension;
  alarm: CameraStatus['alarm'];
}

export class LiveStatus {
  private readonly cameras = new Map<string, CameraLive>();
  private readonly startedAt = new Date().toISOString();
  private model: ServiceStatus['model'] = {
    bundle: '',
    provenance: '',
    untrained: false,
    backend: '',
    hsf: '',
  };
  private mqtt = { connected: false, url: '' };
  private providers: {
    drops?: () => Record<string, Record<string, number>>;
    outboxDepth?: () => number;
  } = {};

  constructor(
    private readonly cfg: Config,
    /** Monotonic clock (performance.now); tests pass their own. */
    private readonly now: () => number = () => performance.now(),
  ) {
    for (const c of cfg.cameras) this.addCamera(c);
  }

  /** A camera (started by a reload, or restarted with a changed config): it starts afresh. */
  addCamera(c: Config['cameras'][number]): void {
    this.cameras.set(c.id, {
      state: 'offline',
      className: c.className,
      thresholds: {
        image: c.thresholds.image,
        pixel: c.thresholds.pixel,
        clear: c.thresholds.clear ?? c.thresholds.image,
      },
      calibration: c.calibration,
      recent: [],
      frames: 0,
      alarm: { active: false },
    });
  }

  removeCamera(cameraId: string): void {
    this.cameras.delete(cameraId);
  }

  /** Follows the service's bus: every frame, durable event, camera state, alarm and suspension. */
  subscribe(bus: ServiceBus): void {
    bus.on('frame', (o) =>
      this.recordFrame(
        o.cameraId,
        o.decision.decision,
        o.capturedAtWall,
        o.capturedAtMono,
        o.publishedAtMono,
      ),
    );
    bus.on('event', (event) => {
      const c = this.cameras.get(event.cameraId);
      if (c) c.lastEventId = event.id;
    });
    bus.on('cameraState', ({ cameraId, state }) => this.setCameraState(cameraId, state));
    bus.on('settings', ({ cameraId, applied, camera }) => {
      const c = this.cameras.get(cameraId);
      if (!c) return;
      c.className = applied.className;
      const t = applied.thresholds;
      c.thresholds = { image: t.image, pixel: t.pixel, clear: t.clear };
      c.calibration = camera.calibration;
    });
    bus.on('alarm', (a) => this.setAlarm(a));
    bus.on('suspension', ({ cameraId, suspension }) => this.setSuspension(cameraId, suspension));
  }

  /** Where the dropped-frame counts and the outbox depth are read from. */
  setProviders(p: LiveStatus['providers']): void {
    this.providers = p;
  }

  setModel(m: ServiceStatus['model']): void {
    this.model = { ...m, ...(this.model.lastRefused && { lastRefused: this.model.lastRefused }) };
  }

  /** A bundle refused at run time: the dashboard's status says so until the next one. */
  setModelRefused(r: NonNullable<ServiceStatus['model']['lastRefused']>): void {
    this.model = { ...this.model, lastRefused: r };
  }
  setMqttConnected(connected: boolean): void {
    this.mqtt.connected = connected;
  }
  setMqttUrl(url: string): void {
    this.mqtt.url = redactUrl(url);
  }
  setCameraState(cameraId: string, state: string): void {
    const c = this.cameras.get(cameraId);
    if (c) c.state = state;
  }

  setSuspension(cameraId: string, s: Suspension | undefined): void {
    const c = this.cameras.get(cameraId);
    if (c) c.suspension = s;
  }

  setAlarm(a: AlarmState): void {
    const c = this.cameras.get(a.cameraId);
    if (!c) return;
    c.alarm = {
      active: a.active,
      ...(a.active && a.eventId !== undefined && { eventId: a.eventId }),
      ...(a.active && a.since !== undefined && { since: a.since }),
      ...(a.acknowledged && { acknowledged: { ...a.acknowledged } }),
    };
  }

  /** The state a person should see: "suspended" overrides the source's. */
  viewState(cameraId: string): string | undefined {
    const c = this.cameras.get(cameraId);
    if (!c) return undefined;
    return c.suspension ? 'suspended' : c.state;
  }

  recordFrame(
    cameraId: string,
    d: DecideResult,
    capturedAtWall: number,
    capturedAtMono: number,
    publishedAtMono: number,
  ): void {
    const c = this.cameras.get(cameraId);
    if (!c) return;
    c.lastScore = d.detection.score;
    c.lastSeq = d.detection.seq;
    c.lastFrameAtWall = capturedAtWall;
    c.anomalous = d.active;
    c.className = d.detection.className;
    c.lastLatencyMs = publishedAtMono - capturedAtMono;
    c.frames++;
    c.recent.push(publishedAtMono);
    prune(c.recent, publishedAtMono);
  }

  /**
   * Frames per second over the last FPS_WINDOW_MS up to now, so that it falls to 0 once frames stop
   * (a camera that went offline must not keep showing the rate it had).
   */
  private fps(c: CameraLive, now = this.now()): number {
    prune(c.recent, now);
    if (c.recent.length < 2) return 0;
    return ((c.recent.length - 1) * 1000) / Math.max(now - c.recent[0], 1);
  }

  snapshot(): ServiceStatus {
    const drops = this.providers.drops?.() ?? {};
    const depth = this.providers.outboxDepth?.();
    return {
      site: this.cfg.site,
      line: this.cfg.line,
      startedAt: this.startedAt,
      model: this.model,
      mqtt: { ...this.mqtt, ...(depth !== undefined && { outboxDepth: depth }) },
      cameras: [...this.cameras.entries()].map(([id, c]) => {
        const dropped = Object.fromEntries(Object.entries(drops[id] ?? {}).filter(([, n]) => n > 0));
        return {
          id,
          className: c.className,
          state: c.suspension ? 'suspended' : c.state,
          ...(c.suspension?.until !== undefined && { suspendedUntil: c.suspension.until }),
          ...(c.suspension && {
            suspension: {
              since: c.suspension.since,
              by: c.suspension.by,
              ...(c.suspension.comment !== undefined && { comment: c.suspension.comment }),
            },
          }),
          triggerable: acceptsHttpTrigger(this.cfg.cameras.find((x) => x.id === id)?.source),
          thresholds: { ...c.thresholds },
          ...(c.calibration && { calibration: c.calibration }),
          lastScore: c.lastScore,
          lastSeq: c.lastSeq,
          ...(c.lastFrameAtWall !== undefined && { lastFrameAt: new Date(c.lastFrameAtWall).toISOString() }),
          anomalous: c.anomalous,
          fps: this.fps(c),
          dropped,
          alarm: structuredClone(c.alarm),
        };
      }),
    };
  }

  /** Retained on `<base>/<camera>/state`. */
  cameraStatePayload(cameraId: string, decider: Decider): CameraStatePayload {
    const c = this.cameras.get(cameraId)!;
    const t = decider.getThresholds();
    c.thresholds = { image: t.image, pixel: t.pixel, clear: t.clear };
    c.className = decider.getClassName();
    return {
      status: (c.suspension ? 'suspended' : c.state) as CameraStatePayload['status'],
      ...(c.suspension && { suspendedUntil: c.suspension.until ?? null }),
      className: decider.getClassName(),
      thresholds: { ...t },
      calibration: c.calibration,
      lastScore: c.lastScore,
      lastEventId: c.lastEventId,
      alarmActive: decider.alarmActive,
      untrainedModel: this.model.untrained,
      ...(this.model.demoNote !== undefined && { demoModel: this.model.demoNote }),
      model: this.modelRef(),
    };
  }

  /** The active bundle as the retained state and the stats name it. */
  private modelRef(): { sha256: string; version: string } {
    return { sha256: this.model.sha256 ?? '', version: this.model.version ?? '' };
  }

  /** fps, capture-to-publish latency and frame count of a camera (Sparkplug metrics). */
  rateMetrics(cameraId: string): { fps: number; latencyMs: number; frames: number } {
    const c = this.cameras.get(cameraId)!;
    return { fps: this.fps(c), latencyMs: c.lastLatencyMs ?? 0, frames: c.frames };
  }

  /** Extra fields for `<base>/stats`. */
  statsPayload(drops: Record<string, Record<string, number>>): Record<string, unknown> {
    const cameras: Record<string, unknown> = {};
    for (const [id, c] of this.cameras) {
      cameras[id] = {
        state: c.suspension ? 'suspended' : c.state,
        fps: round(this.fps(c)),
        latencyMs: round(c.lastLatencyMs),
        lastScore: c.lastScore,
        dropped: drops[id] ?? {},
      };
    }
    return {
      cameras,
      untrainedModel: this.model.untrained,
      ...(this.model.demoNote !== undefined && { demoModel: this.model.demoNote }),
      model: this.modelRef(),
    };
  }
}

function prune(recent: number[], now: number): void {
  while (recent.length && recent[0] < now - FPS_WINDOW_MS) recent.shift();
}

const round = (x: number | undefined) => (x === undefined ? undefined : Math.round(x * 10) / 10);

/** A trigger camera takes POST /api/cameras/<id>/trigger only with source.http: true. */
export function acceptsHttpTrigger(source: Config['cameras'][number]['source'] | undefined): boolean {
  return source?.kind === 'trigger' && source.http;
}
