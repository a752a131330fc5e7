// Prometheus metrics (prom-client), exposed by the dashboard at /metrics. One registry per service
// instance so tests can run several services in one process.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type CameraState = 'online' | 'stalled' | 'reconnecting' | 'offline' | 'suspended';
const CAMERA_STATES: CameraState[] = ['online', 'stalled', 'reconnecting', 'offline', 'suspended'];

interface ScrapeProviders {
  outboxDepth?: () => number;
  historyRows?: () => Record<string, number>;
}

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
    help: 'documents (events and inspection results) lost: outbox overflow (drop-oldest, reject-new) or refused by the broker (broker-rejected); also logged and published',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly triggers = new Counter({
    name: 'adaclip_triggers_total',
    help: 'triggers received by trigger cameras (each is answered by exactly one inspection result)',
    labelNames: ['camera'],
    registers: [this.registry],
  });
  readonly results = new Counter({
    name: 'adaclip_results_total',
    help: 'inspection results made durable, by verdict (ok, ng, error)',
    labelNames: ['camera', 'verdict'],
    registers: [this.registry],
  });
  readonly resultErrors = new Counter({
    name: 'adaclip_result_errors_total',
    help: 'inspection results with verdict error, by reason',
    labelNames: ['camera', 'reason'],
    registers: [this.registry],
  });
  readonly resultsLate = new Counter({
    name: 'adaclip_results_late_total',
    help: 'outcomes that arrived after their trigger was answered by the result timeout (dropped)',
    labelNames: ['camera'],
    registers: [this.registry],
  });
  readonly acknowledgements = new Counter({
    name: 'adaclip_acknowledgements_total',
    help: 'alarms acknowledged by an operator',
    labelNames: ['camera'],
    registers: [this.registry],
  });
  readonly reviews = new Counter({
    name: 'adaclip_reviews_total',
    help: 'reviews of events and results, by label (false-positive, confirmed)',
    labelNames: ['kind', 'label'],
    registers: [this.registry],
  });
  readonly alarmActive = new Gauge({
    name: 'adaclip_alarm_active',
    help: '1 while the camera has an active alarm',
    labelNames: ['camera'],
    registers: [this.registry],
  });
  readonly suspended = new Gauge({
    name: 'adaclip_camera_suspended',
    help: '1 while an operator has the camera suspended',
    labelNames: ['camera'],
    registers: [this.registry],
  });
  readonly historyRows = new Gauge({
    name: 'adaclip_history_rows',
    help: 'rows in the local history, by table',
    labelNames: ['table'],
    registers: [this.registry],
    collect: () =>
      this.scrape('historyRows', (rows) => {
        for (const [table, n] of Object.entries(rows)) this.historyRows.set({ table }, n);
      }),
  });
  readonly historyErrors = new Counter({
    name: 'adaclip_history_errors_total',
    help: 'history writes that failed (the documents are durable in the outbox regardless)',
    registers: [this.registry],
  });
  readonly stateWriteErrors = new Counter({
    name: 'adaclip_state_write_errors_total',
    help: 'writes to the state directory that failed and were survived, by file (bdseq: the Sparkplug bdSeq); each is also logged',
    labelNames: ['file'],
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
    help: 'documents (events, results) on disk waiting for their PUBACK',
    registers: [this.registry],
    collect: () => this.scrape('outboxDepth', (n) => this.outboxDepth.set(n)),
  });
  readonly modelLoads = new Counter({
    name: 'adaclip_model_loads_total',
    help: 'model bundles loaded at run time (reload, load-bundle), by outcome (swapped, refused)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly modelInfo = new Gauge({
    name: 'adaclip_model_info',
    help: '1 for the model bundle in use (sha256 of its model.onnx, manifest version)',
    labelNames: ['sha256', 'version'],
    registers: [this.registry],
  });
  readonly reloads = new Counter({
    name: 'adaclip_config_reloads_total',
    help: 'config reloads (SIGHUP, reload command), by outcome (applied, unchanged, refused)',
    labelNames: ['outcome'],
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

  /** The model bundle in use: the only adaclip_model_info series at 1. */
  setModel(sha256: string, version: string): void {
    this.modelInfo.reset();
    this.modelInfo.set({ sha256, version }, 1);
  }

  /** Values read at scrape time: the outbox depth and the history's row counts. */
  readAtScrape(p: ScrapeProviders): void {
    this.providers = { ...this.providers, ...p };
  }

  private providers: ScrapeProviders = {};

  /** A provider that fails leaves the last value: the scrape itself must not fail. */
  private scrape<K extends keyof ScrapeProviders>(
    key: K,
    set: (v: ReturnType<NonNullable<ScrapeProviders[K]>>) => void,
  ): void {
    const provider = this.providers[key];
    if (!provider) return;
    try {
      set(provider() as ReturnType<NonNullable<ScrapeProviders[K]>>);
    } catch {
      // keep the last value
    }
  }
}
