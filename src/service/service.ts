// The composition root: builds every part from the config, wires them together, starts them in
// order and stops them in reverse. Constructors elsewhere only wire; start()/stop() own life cycles.
// What happens at run time lives in the parts: the decide stage (decision-stage.ts), the publish
// stage (result-publisher.ts), run-time settings (camera-settings.ts), the MQTT doors
// (mqtt-doors.ts), Sparkplug B (sparkplug-feed.ts); they meet on the event bus (event-bus.ts).
import type { Config } from '../config/schema.js';
import type { Engine } from '../engines/engine.js';
import { createEngine } from '../engines/select.js';
import { provenanceFromManifest } from '../events/provenance.js';
import { SnapshotStore } from '../events/snapshots.js';
import type { HsfRunner } from '../hsf/types.js';
import { loadBundle, type Bundle } from '../model/bundle.js';
import { MqttLink } from '../mqtt/mqtt-link.js';
import { createPipeline, type Pipeline } from '../pipeline/pipeline.js';
import { DashboardServer } from '../dashboard/server.js';
import { Metrics } from '../metrics/prometheus.js';
import type { Logger } from '../util/log.js';
import { CameraSettings, type SettingsChanged } from './camera-settings.js';
import { DecisionStage, type Decided } from './decision-stage.js';
import { ServiceBus } from './event-bus.js';
import { LiveStatus } from './live-status.js';
import { feedMetrics } from './metrics-feed.js';
import { ModelStages, hsfFor, type BatchOut, type ModelResult } from './model-stages.js';
import { mqttCommandHandlers, subscribeTriggerTopics } from './mqtt-doors.js';
import { ResultPublisher } from './result-publisher.js';
import { SparkplugFeed } from './sparkplug-feed.js';

type ServicePipeline = Pipeline<ReturnType<ModelStages['preprocess']>, BatchOut, ModelResult, Decided>;

export class Service {
  /** Resolves with the exit code once the service has stopped (sources ended, or stop()). */
  readonly finished: Promise<number>;
  readonly metrics = new Metrics();
  private resolveFinished!: (code: number) => void;
  private readonly bus: ServiceBus;
  private readonly status: LiveStatus;
  private engine?: Engine;
  private decisions?: DecisionStage;
  private settings?: CameraSettings;
  private mqtt?: MqttLink;
  private sparkplug?: SparkplugFeed;
  private dashboard?: DashboardServer;
  private pipeline?: ServicePipeline;
  private stopping?: Promise<void>;

  constructor(
    private readonly cfg: Config,
    private readonly logger: Logger,
  ) {
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
    this.bus = new ServiceBus(logger);
    this.status = new LiveStatus(cfg, this.metrics);
    this.subscribeLiveViews();
  }

  async start(): Promise<void> {
    const { cfg, logger, bus, status } = this;
    // 1. The model: a bundle that does not match its manifest is refused here, before anything runs.
    const bundle = await loadBundle(cfg.model.bundle);
    if (bundle.untrained) {
      logger.warn(
        { bundle: bundle.dir },
        '*** UNTRAINED MODEL (untrained-test, random weights): scores and events mean NOTHING; for demos and tests only ***',
      );
    }
    const engine = (this.engine = await createEngine(cfg.model, bundle, logger));
    const hsf = hsfFor(cfg.model, engine, logger);
    this.reportModel(bundle, engine, hsf);
    const stages = new ModelStages(
      bundle,
      engine,
      hsf,
      (id) => this.settings!.camera(id).className,
      (id) => this.decisions?.pixelThreshold(id) ?? -Infinity,
    );
    for (const cam of cfg.cameras) stages.checkClassName(cam.className);

    // 2. Decisions, run-time settings and snapshots.
    const model = provenanceFromManifest(bundle.manifest, { hsf: hsf !== undefined });
    const decisions = (this.decisions = new DecisionStage(
      cfg.cameras,
      { site: cfg.site, line: cfg.line, model },
      logger,
    ));
    const checkClassName = (name: string) => stages.checkClassName(name);
    const changed = (c: SettingsChanged) => bus.emit('settings', c);
    this.settings = new CameraSettings(cfg.cameras, { decisions, checkClassName, changed, logger });
    const snapshots = cfg.snapshots.enabled ? new SnapshotStore(cfg.snapshots, logger) : undefined;
    await snapshots?.init();

    // 3. MQTT: the durable outbox opens (replaying what an earlier run left) before any frame flows.
    const mqtt = (this.mqtt = new MqttLink(cfg.mqtt, logger, {
      cameraIds: cfg.cameras.map((c) => c.id),
      statsProvider: () => status.statsPayload(this.pipeline?.drops.snapshot() ?? {}),
    }));
    mqtt.on('state', (s) => {
      this.metrics.mqttConnected.set(s === 'connected' ? 1 : 0);
      status.setMqttConnected(s === 'connected');
    });
    mqtt.onCommand(
      mqttCommandHandlers({
        settings: this.settings,
        trigger: (id, partId) => {
          if (!this.pipeline) throw new Error('not running yet');
          return this.pipeline.trigger(id, partId);
        },
        status: () => status.snapshot(),
        rebirth: () => {
          this.sparkplug?.rebirth();
          for (const id of cfg.cameras.map((c) => c.id)) this.publishCameraState(id);
        },
      }),
    );
    await mqtt.start();
    status.setMqttUrl(mqtt.brokerUrl ?? '');
    if (cfg.mqtt.sparkplug.enabled) {
      this.sparkplug = new SparkplugFeed(cfg, {
        url: mqtt.brokerUrl,
        bus,
        settings: this.settings,
        status,
        logger,
        softwareVersion: `adaclip-edge ${bundle.manifest.provenance.exporter ?? ''}`.trim(),
      });
      this.sparkplug.start();
    }
    subscribeTriggerTopics(cfg, mqtt, (id, partId) => this.trigger(id, partId), logger);

    // 4. The dashboard and metrics.
    if (cfg.dashboard.enabled) {
      const source = status.dashboardSource({
        trigger: (id, partId) => this.trigger(id, partId),
        snapshotDir: cfg.snapshots.dir,
      });
      this.dashboard = new DashboardServer(cfg.dashboard, source, logger);
      await this.dashboard.start();
    }

    // 5. The pipeline last: frames flow only once everything downstream is ready.
    const publisher = new ResultPublisher({
      bus,
      mqtt,
      snapshots,
      smoothed: (r) => stages.smoothed(r),
      logger,
    });
    const pipeline: ServicePipeline = (this.pipeline = createPipeline({
      cameras: cfg.cameras,
      settings: cfg.pipeline,
      maxBatch: engine.info.maxBatch,
      log: logger,
      stages: {
        preprocess: stages.preprocess,
        engine: stages.engineRun,
        hsf: stages.fuse,
        decide: decisions.decide,
        publish: publisher.publish,
      },
    }));
    pipeline.onState((e) => bus.emit('cameraState', { cameraId: e.cameraId, state: e.state }));
    pipeline.onResult((o) => bus.emit('frame', o));
    bus.on('settings', ({ camera }) => pipeline.updateCamera(camera));
    void pipeline.done.then(() => {
      if (!this.stopping) {
        logger.info('every source has ended: stopping');
        void this.stop();
      }
    });
    pipeline.start();
    // Retained state for every camera from the start, also for trigger cameras that wait for a part.
    for (const [id, state] of Object.entries(pipeline.cameraStates())) {
      status.setCameraState(id, state);
      this.metrics.setCameraState(id, state);
      this.publishCameraState(id);
    }
    logger.info({ cameras: cfg.cameras.map((c) => c.id), broker: mqtt.brokerUrl }, 'inspecting');
  }

  /** Stops in reverse order: drain the pipeline, then flush MQTT, then the rest. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const report = await this.pipeline?.stop();
      if (report && !report.drained) this.logger.warn({ abandoned: report.abandoned }, 'drain time ran out');
      await this.dashboard?.stop().catch((err: unknown) => this.logger.warn({ err }, 'dashboard stop'));
      await this.sparkplug?.stop().catch((err: unknown) => this.logger.warn({ err }, 'sparkplug stop'));
      await this.mqtt?.stop().catch((err: unknown) => this.logger.warn({ err }, 'mqtt stop'));
      await this.engine?.close().catch((err: unknown) => this.logger.warn({ err }, 'engine close'));
      this.resolveFinished(0);
    })();
    return this.stopping;
  }

  /** The model in the live status and the log. */
  private reportModel(bundle: Bundle, engine: Engine, hsf: HsfRunner | undefined): void {
    this.status.setModel({
      bundle: bundle.dir,
      provenance: bundle.manifest.provenance.kind,
      untrained: bundle.untrained,
      backend: `${engine.info.backend} (${engine.info.device})`,
      hsf: hsf ? hsf.kind : 'off',
    });
    const { backend, device, maxBatch } = engine.info;
    this.logger.info({ backend, device, maxBatch, hsf: hsf?.kind ?? 'off' }, 'model ready');
  }

  /** Metrics, the live status (dashboard, status command, stats) and the retained camera state. */
  private subscribeLiveViews(): void {
    feedMetrics(this.bus, this.metrics);
    this.status.subscribe(this.bus);
    // after the live status has the change: the payload is built from it
    this.bus.on('cameraState', ({ cameraId }) => this.publishCameraState(cameraId));
    this.bus.on('settings', ({ cameraId }) => this.publishCameraState(cameraId));
  }

  /** The retained `<base>/<camera>/state`, from the live status and the camera's Decider. */
  private publishCameraState(cameraId: string): void {
    if (!this.decisions) return;
    void this.mqtt?.publishState(
      cameraId,
      this.status.cameraStatePayload(cameraId, this.decisions.decider(cameraId)),
    );
  }

  /** A trigger from a PLC topic or the dashboard; false (logged) when refused. */
  private trigger(cameraId: string, partId?: string): boolean {
    if (!this.pipeline) return false;
    try {
      this.pipeline.trigger(cameraId, partId);
      return true;
    } catch (err) {
      this.logger.warn({ camera: cameraId, err: (err as Error).message }, 'trigger refused');
      return false;
    }
  }
}
