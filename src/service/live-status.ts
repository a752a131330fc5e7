// What the service knows about itself right now, for the dashboard, the status command, the
// retained camera state topics and the periodic stats: the last decision per camera, a short
// in-memory list of recent events, fps and latency.
import type { Calibration, Config } from '../config/schema.js';
import type { AnomalyEvent } from '../events/anomaly-event.js';
import type { Metrics } from '../metrics/prometheus.js';
import type { CameraStatePayload } from '../mqtt/mqtt-link.js';
import type { Decider, DecideResult } from '../postprocess/decide.js';
import type { DashboardSource, ServiceStatus } from '../dashboard/types.js';
import type { ServiceBus } from './event-bus.js';
import { basename, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';

const RECENT_EVENTS = 200;
const FPS_WINDOW_MS = 10_000;

interface CameraLive {
  state: string;
  className: string;
  thresholds: { image: number; pixel: number };
  /** How the thresholds were calibrated; dropped when they are later set by hand. */
  calibration?: Calibration;
  lastScore?: number;
  lastSeq?: number;
  anomalous?: boolean;
  lastEventId?: string;
  lastLatencyMs?: number;
  frames: number;
  /** Decision times (performance.now()) within the fps window. */
  recent: number[];
}

export class LiveStatus {
  private readonly cameras = new Map<string, CameraLive>();
  private readonly events: AnomalyEvent[] = [];
  private readonly listeners = new Set<(e: unknown) => void>();
  private readonly startedAt = new Date().toISOString();
  private model: ServiceStatus['model'] = {
    bundle: '',
    provenance: '',
    untrained: false,
    backend: '',
    hsf: '',
  };
  private mqtt = { connected: false, url: '' };

  constructor(
    private readonly cfg: Config,
    private readonly metrics: Metrics,
  ) {
    for (const c of cfg.cameras) {
      this.cameras.set(c.id, {
        state: 'offline',
        className: c.className,
        thresholds: { image: c.thresholds.image, pixel: c.thresholds.pixel },
        calibration: c.calibration,
        recent: [],
        frames: 0,
      });
    }
  }

  /** Follows the service's bus: every frame, every durable event, every camera state. */
  subscribe(bus: ServiceBus): void {
    bus.on('frame', (o) =>
      this.recordFrame(o.cameraId, o.decision.decision, o.capturedAtMono, o.publishedAtMono),
    );
    bus.on('event', (event) => this.recordEvent(event));
    bus.on('cameraState', ({ cameraId, state }) => this.setCameraState(cameraId, state));
    bus.on('settings', ({ cameraId, camera }) => {
      const c = this.cameras.get(cameraId);
      if (c) c.calibration = camera.calibration;
    });
  }

  setModel(m: ServiceStatus['model']): void {
    this.model = m;
  }
  setMqttConnected(connected: boolean): void {
    this.mqtt.connected = connected;
  }
  setMqttUrl(url: string): void {
    this.mqtt.url = url.replace(/\/\/[^@/]*@/, '//***@');
  }
  setCameraState(cameraId: string, state: string): void {
    const c = this.cameras.get(cameraId);
    if (c) c.state = state;
  }

  recordFrame(cameraId: string, d: DecideResult, capturedAtMono: number, publishedAtMono: number): void {
    const c = this.cameras.get(cameraId);
    if (!c) return;
    c.lastScore = d.detection.score;
    c.lastSeq = d.detection.seq;
    c.anomalous = d.active;
    c.className = d.detection.className;
    c.lastLatencyMs = publishedAtMono - capturedAtMono;
    c.frames++;
    c.recent.push(publishedAtMono);
    while (c.recent.length && c.recent[0] < publishedAtMono - FPS_WINDOW_MS) c.recent.shift();
  }

  recordEvent(event: AnomalyEvent): void {
    const c = this.cameras.get(event.cameraId);
    if (c) {
      c.lastEventId = event.id;
      c.thresholds = { image: event.thresholds.image, pixel: event.thresholds.pixel };
    }
    this.events.push(event);
    if (this.events.length > RECENT_EVENTS) this.events.shift();
    for (const l of this.listeners) l(event);
  }

  private fps(c: CameraLive): number {
    if (c.recent.length < 2) return 0;
    return ((c.recent.length - 1) * 1000) / (c.recent[c.recent.length - 1] - c.recent[0]);
  }

  snapshot(): ServiceStatus {
    return {
      site: this.cfg.site,
      line: this.cfg.line,
      startedAt: this.startedAt,
      model: this.model,
      mqtt: { ...this.mqtt },
      cameras: [...this.cameras.entries()].map(([id, c]) => ({
        id,
        className: c.className,
        state: c.state,
        triggerable: this.cfg.cameras.find((x) => x.id === id)?.source.kind === 'trigger',
        thresholds: c.thresholds,
        calibration: c.calibration,
        lastScore: c.lastScore,
        lastSeq: c.lastSeq,
        anomalous: c.anomalous,
        fps: this.fps(c),
      })),
    };
  }

  /** Retained on `<base>/<camera>/state`. */
  cameraStatePayload(cameraId: string, decider: Decider): CameraStatePayload {
    const c = this.cameras.get(cameraId)!;
    const t = decider.getThresholds();
    c.thresholds = { image: t.image, pixel: t.pixel };
    c.className = decider.getClassName();
    return {
      status: c.state as CameraStatePayload['status'],
      className: decider.getClassName(),
      thresholds: { ...t },
      calibration: c.calibration,
      lastScore: c.lastScore,
      lastEventId: c.lastEventId,
      alarmActive: decider.alarmActive,
      untrainedModel: this.model.untrained,
    };
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
        state: c.state,
        fps: round(this.fps(c)),
        latencyMs: round(c.lastLatencyMs),
        lastScore: c.lastScore,
        dropped: drops[id] ?? {},
      };
    }
    return { cameras, untrainedModel: this.model.untrained };
  }

  dashboardSource(o: {
    trigger: (cameraId: string, partId?: string) => boolean;
    snapshotDir: string;
  }): DashboardSource {
    const dir = resolve(o.snapshotDir);
    return {
      status: () => this.snapshot(),
      recentEvents: (limit) => this.events.slice(-limit).reverse(),
      onEvent: (l) => {
        this.listeners.add(l);
        return () => this.listeners.delete(l);
      },
      trigger: o.trigger,
      snapshotFile: (name) => {
        // only names of files the store wrote (no path separators: validated by the route too)
        if (basename(name) !== name) return undefined;
        for (const ev of this.events) {
          for (const s of ev.snapshots) {
            if (basename(s.path) === name) {
              const file = join(dir, s.path);
              return existsSync(file) ? file : undefined;
            }
          }
        }
        return undefined;
      },
      metricsText: () => this.metrics.registry.metrics(),
      metricsContentType: this.metrics.registry.contentType,
    };
  }
}

const round = (x: number | undefined) => (x === undefined ? undefined : Math.round(x * 10) / 10);
