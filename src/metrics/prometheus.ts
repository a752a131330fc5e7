// Prometheus metrics (prom-client), exposed by the dashboard at /metrics. One registry per service
// instance so tests can run several services in one process.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type CameraState = 'online' | 'stalled' | 'reconnecting' | 'offline';
const CAMERA_STATES: CameraState[] = ['online', 'stalled', 'reconnecting', 'offline'];

export class Metrics {
  readonly registry = new Registry();
  readonly framesCaptured = new Counter({
    name: 'adaclip_frames_captured_total',
    help: 'frames read from the sources',
    labelNames: ['camera'],
    registers: [this.registry],
  });
  readonly framesDropped = new Counter({
    name: 'adaclip_frames_dropped_total',
    help: 'frames not inspected, by reason (stale, replaced, every-nth, preprocess-error, engine-error, ...)',
    labelNames: ['camera', 'reason'],
    registers: [this.registry],
  });
  readonly framesInspected = new Counter({
    name: 'adaclip_frames_inspected_total',
    help: 'frames that went through the model and the decision',
    labelNames: ['camera'],
    registers: [this.registry],
  });
  readonly events = new Counter({
    name: 'adaclip_events_total',
    help: 'anomaly events accepted (durable in the outbox)',
    labelNames: ['camera', 'severity'],
    registers: [this.registry],
  });
  readonly eventsLost = new Counter({
    name: 'adaclip_events_lost_total',
    help: 'events dropped by the outbox overflow policy (never silent: also logged and published)',
    registers: [this.registry],
  });
  readonly stageSeconds = new Histogram({
    name: 'adaclip_stage_seconds',
    help: 'per-frame time spent in each pipeline stage',
    labelNames: ['stage'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly score = new Gauge({
    name: 'adaclip_anomaly_score',
    help: 'last image anomaly score per camera',
    labelNames: ['camera'],
    registers: [this.registry],
  });
  readonly cameraState = new Gauge({
    name: 'adaclip_camera_state',
    help: '1 for the current state of each camera',
    labelNames: ['camera', 'state'],
    registers: [this.registry],
  });
  readonly outboxDepth = new Gauge({
    name: 'adaclip_outbox_depth',
    help: 'events on disk waiting for their PUBACK',
    registers: [this.registry],
  });
  readonly mqttConnected = new Gauge({
    name: 'adaclip_mqtt_connected',
    help: '1 while the MQTT connection is up',
    registers: [this.registry],
  });

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  setCameraState(camera: string, state: CameraState): void {
    for (const s of CAMERA_STATES) this.cameraState.set({ camera, state: s }, s === state ? 1 : 0);
  }
}
