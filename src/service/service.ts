// The composition root: builds every part from the config, wires them together, starts them in
// order and stops them in reverse. Constructors elsewhere only wire; start()/stop() own life cycles.
// What happens at run time lives in the parts beside this file, which meet on the event bus
// (event-bus.ts); docs/architecture.md says which part owns what. A reload (SIGHUP, the reload
// command) or a new bundle (load-bundle) changes the running parts in place: what changes is planned
// by config-reload.ts, a model is loaded beside the running one by model-loader.ts and swapped by the
// pipeline.
import type { CameraConfig, Config } from '../config/schema.js';
import type { ResultContext } from '../events/inspection-result.js';
import { SnapshotStore } from '../events/snapshots.js';
import { MqttLink } from '../mqtt/mqtt-link.js';
import { createPipeline, type Pipeline } from '../pipeline/pipeline.js';
import { DashboardServer } from '../dashboard/server.js';
import { Metrics } from '../metrics/prometheus.js';
import type { Logger } from '../util/log.js';
import { CameraSettings, type SettingsChanged } from './camera-settings.js';
import { CameraStateFeed } from './camera-state-feed.js';
import { planChangesSomething, planReload } from './config-reload.js';
import { dashboardSource } from './dashboard-api.js';
import { DecisionStage, type Decided } from './decision-stage.js';
import { dashboardUrl, softwareVersion, type DeviceInfo } from './device-info.js';
import { ServiceBus } from './event-bus.js';
import { LiveFrames } from './live-frames.js';
import { LiveStatus } from './live-status.js';
import { feedMqttMetrics, feedPipelineMetrics } from './metrics-feed.js';
import {
  loadModel,
  modelRef,
  modelStageSet,
  reportModel,
  type LoadedModel,
  type ModelReport,
} from './model-loader.js';
import type { BatchOut, ModelResult, ModelStages } from './model-stages.js';
import { mqttCommandHandlers, subscribeTriggerTopic } from './mqtt-doors.js';
import { OperatorLoop } from './operator-loop.js';
import { readiness, type Readiness } from './readiness.js';
import type { ResultLedger } from './result-ledger.js';
import { ResultPublisher } from './result-publisher.js';
import { SparkplugFeed } from './sparkplug-feed.js';
import { TriggerDesk, createResultLedger } from './trigger-desk.js';

type ServicePipeline = Pipeline<ReturnType<ModelStages['preprocess']>, BatchOut, ModelResult, Decided>;

export type { ModelReport } from './model-loader.js';

/** What a reload changed (the reload command's answer, and the log line). */
export interface ReloadReport {
  added: string[];
  removed: string[];
  changed: string[];
  /** Set when a new model was swapped in. */
  model?: ModelReport;
  /** Changed keys that take effect only at the next start. */
  restartNeeded: string[];
}

export interface ServiceOptions {
  /** Reads the config file again (SIGHUP, the reload command); without it a reload is refused. */
  loadConfig?: () => Config;
}

export class Service {
  /** Resolves with the exit code once the service has stopped (sources ended, or stop()). */
  readonly finished: Promise<number>;
  readonly metrics = new Metrics();
  private resolveFinished!: (code: number) => void;
  private readonly bus: ServiceBus;
  private readonly status: LiveStatus;
  private readonly operator: OperatorLoop;
  private readonly views: CameraStateFeed;
  /** The model in use; replaced between two batches by a reload or load-bundle. */
  private model?: LoadedModel;
  /** Site, line and the model in use, stamped on every event and result. */
  private context?: ResultContext;
  /** The config file as last applied: what a reload compares the file with. */
  private applied: Config;
  /** The running cameras' ids, shared (and changed in place) with the command router and the dashboard. */
  private readonly cameraIds: string[];
  /** Trigger topics subscribed, as topic + camera: a camera started again is not subscribed twice. */
  private readonly triggerTopics = new Set<string>();
  /** Reloads and bundle loads run one at a time. */
  private changes: Promise<unknown> = Promise.resolve();
  private desk?: TriggerDesk;
  private decisions?: DecisionStage;
  private settings?: CameraSettings;
  private mqtt?: MqttLink;
  private ledger?: ResultLedger;
  private sparkplug?: SparkplugFeed;
  private dashboard?: DashboardServer;
  private pipeline?: ServicePipeline;
  private stopping?: Promise<void>;
  private readonly startedAt = new Date().toISOString();

  constructor(
    private readonly cfg: Config,
    private readonly logger: Logger,
    private readonly opts: ServiceOptions = {},
  ) {
    this.applied = structuredClone(cfg);
    this.cameraIds = cfg.cameras.map((c) => c.id);
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
    this.bus = new ServiceBus(logger);
    this.status = new LiveStatus(cfg);
    this.operator = new OperatorLoop(cfg, { bus: this.bus, metrics: this.metrics, logger });
    this.views = new CameraStateFeed(this.bus, this.status, this.metrics);
  }

  async start(): Promise<void> {
    const { cfg, logger, bus, status, operator, metrics } = this;
    // 1. The model: a bundle that does not match its manifest is refused here, before anything runs.
    const loaded = (this.model = await loadModel(cfg.model, {
      classNames: cfg.cameras.map((c) => c.className),
      warmUp: false,
      ...this.liveSettings(),
      logger,
    }));
    reportModel(loaded, { status, metrics, logger });
    const { bundle } = loaded;
    const model = () => this.model!;

    // 2. Decisions, run-time settings, snapshots and the operator's loop (history: a bad
    // history.path stops the start here).
    const context: ResultContext = (this.context = {
      site: cfg.site,
      line: cfg.line,
      model: loaded.provenance,
    });
    const decisions = (this.decisions = new DecisionStage(cfg.cameras, context, logger));
    const checkClassName = (name: string) => model().stages.checkClassName(name);
    const changed = (c: SettingsChanged) => bus.emit('settings', c);
    this.settings = new CameraSettings(cfg.cameras, { decisions, checkClassName, changed, logger });
    const snapshots = cfg.snapshots.enabled ? new SnapshotStore(cfg.snapshots, logger) : undefined;
    await snapshots?.init();
    operator.start();

    // 3. MQTT: the durable outbox opens (replaying what an earlier run left) before any frame flows.
    const mqtt = (this.mqtt = new MqttLink(cfg.mqtt, logger, {
      cameraIds: this.cameraIds,
      statsProvider: () => status.statsPayload(this.pipeline?.drops.snapshot() ?? {}),
    }));
    mqtt.on('state', (s) => status.setMqttConnected(s === 'connected'));
    feedMqttMetrics(mqtt, metrics);
    const outboxDepth = () => mqtt.getStats().outbox.pending;
    metrics.readAtScrape({ outboxDepth });
    status.setProviders({ drops: () => this.pipeline?.drops.snapshot() ?? {}, outboxDepth });
    mqtt.onCommand(
      mqttCommandHandlers({
        settings: this.settings,
        suspensions: operator.suspensions,
        trigger: (id, partId) => this.triggerDesk().triggerPart(id, partId),
        status: () => status.snapshot(),
        rebirth: () => {
          this.sparkplug?.rebirth();
          for (const id of cfg.cameras.map((c) => c.id)) this.views.publish(id);
        },
        reload: () => this.reload('mqtt'),
        loadBundle: (path, sha256) => this.loadBundle(path, sha256, 'mqtt'),
      }),
    );
    const settings = () => this.settings!;
    const ledger = (this.ledger = createResultLedger({ mqtt, bus, settings, context, metrics, logger }));
    await mqtt.start();
    status.setMqttUrl(mqtt.brokerUrl ?? '');
    for (const a of operator.board.all()) void mqtt.publishAlarm(a.cameraId, { ...a });
    if (cfg.mqtt.sparkplug.enabled) {
      this.sparkplug = new SparkplugFeed(cfg, {
        url: mqtt.brokerUrl,
        bus,
        settings: this.settings,
        suspensions: operator.suspensions,
        status,
        logger,
        softwareVersion: `adaclip-edge ${bundle.manifest.provenance.exporter ?? ''}`.trim(),
        model: modelRef(loaded),
      });
      this.sparkplug.start();
    }
    const desk = (this.desk = new TriggerDesk({
      cameras: () => this.cfg.cameras,
      pipelineTrigger: (id, partId) => this.running().trigger(id, partId),
      ledger,
      suspensions: operator.suspensions,
      metrics,
      logger,
    }));
    for (const cam of cfg.cameras) this.subscribeTrigger(cam);

    // 4. The dashboard and metrics.
    const live = new LiveFrames({
      smoothed: (r) => model().stages.smoothed(r),
      kept: (cameraId, seq, at) => bus.emit('liveFrame', { cameraId, seq, at }),
      jpegQuality: cfg.snapshots.jpegQuality,
      logger,
    });
    if (cfg.dashboard.enabled) {
      const source = dashboardSource({
        status,
        bus,
        metrics,
        operator,
        settings,
        live,
        readiness: () => this.readiness(),
        trigger: (id, partId) => desk.trigger(id, partId),
        cameraIds: this.cameraIds,
        snapshotDir: cfg.snapshots.dir,
      });
      this.dashboard = new DashboardServer(cfg.dashboard, source, logger);
      await this.dashboard.start();
    }
    this.publishInfo();

    // 5. The pipeline last: frames flow only once everything downstream is ready.
    const publisher = new ResultPublisher({
      bus,
      mqtt,
      snapshots,
      resultSnapshots: cfg.snapshots.results,
      smoothed: (r) => model().stages.smoothed(r),
      results: { ledger, context },
      live,
      logger,
    });
    const pipeline: ServicePipeline = (this.pipeline = createPipeline({
      cameras: cfg.cameras,
      settings: cfg.pipeline,
      maxBatch: loaded.engine.info.maxBatch,
      log: logger,
      stages: {
        ...modelStageSet(loaded),
        decide: decisions.decide,
        publish: publisher.publish,
      },
    }));
    pipeline.onState((e) => bus.emit('cameraState', { cameraId: e.cameraId, state: e.state }));
    pipeline.onResult((o) => bus.emit('frame', o));
    feedPipelineMetrics(pipeline, metrics);
    pipeline.drops.onDrop((e) => desk.answerDrop(e));
    bus.on('settings', ({ camera }) => pipeline.updateCamera(camera));
    bus.on('suspension', ({ cameraId, suspension }) =>
      pipeline.setSuspended(cameraId, suspension !== undefined),
    );
    operator.suspensions.restore();
    void pipeline.done.then(() => {
      if (!this.stopping) {
        logger.info('every source has ended: stopping');
        void this.stop();
      }
    });
    pipeline.start();
    // Retained state for every camera from the start, also for trigger cameras that wait for a part.
    this.views.connect(mqtt, decisions);
    this.views.initial(pipeline.cameraStates());
    logger.info({ cameras: cfg.cameras.map((c) => c.id), broker: mqtt.brokerUrl }, 'inspecting');
  }

  /** Stops in reverse order: drain the pipeline, answer open triggers, flush MQTT, the rest. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const report = await this.pipeline?.stop();
      if (report && !report.drained) this.logger.warn({ abandoned: report.abandoned }, 'drain time ran out');
      await this.ledger
        ?.close('shutdown', 'the service stopped before this trigger had a result')
        .catch((err: unknown) => this.logger.warn({ err }, 'results at stop'));
      await this.dashboard?.stop().catch((err: unknown) => this.logger.warn({ err }, 'dashboard stop'));
      await this.sparkplug?.stop().catch((err: unknown) => this.logger.warn({ err }, 'sparkplug stop'));
      await this.mqtt?.stop().catch((err: unknown) => this.logger.warn({ err }, 'mqtt stop'));
      await this.model?.engine.close().catch((err: unknown) => this.logger.warn({ err }, 'engine close'));
      this.operator.stop();
      this.resolveFinished(0);
    })();
    return this.stopping;
  }

  /** GET /readyz. */
  readiness(): Readiness {
    const ids = this.cfg.cameras.map((c) => c.id);
    return readiness({
      modelLoaded: this.decisions !== undefined,
      mqttConnected: this.mqtt?.connectionState === 'connected',
      outboxPending: this.mqtt?.getStats().outbox.pending ?? 0,
      highWater: this.cfg.mqtt.outbox.highWater,
      cameras: Object.fromEntries(
        ids.map((id) => [id, this.pipeline ? this.status.viewState(id) : undefined]),
      ),
    });
  }

  /**
   * SIGHUP and the reload command: reads the config file again and applies what changed since it
   * was last applied: a new model first (loaded beside the running one, verified and warmed up,
   * then swapped between two batches), then cameras added, changed (stopped once their admitted
   * frames are through, started with the new config) and removed, while the others keep running.
   * Everything is checked before anything changes: a bad file, a bundle that fails or a camera the
   * model cannot prompt for refuses the whole reload (thrown, logged, counted) and nothing changes.
   */
  reload(door: string): Promise<ReloadReport> {
    return this.oneAtATime(async () => {
      try {
        const report = await this.applyReload();
        const outcome =
          report.added.length + report.removed.length + report.changed.length > 0 || report.model
            ? 'applied'
            : 'unchanged';
        this.metrics.reloads.inc({ outcome });
        this.logger.info({ door, ...report }, `config reload ${outcome}`);
        return report;
      } catch (err) {
        this.metrics.reloads.inc({ outcome: 'refused' });
        this.logger.error({ door, err: (err as Error).message }, 'config reload refused: nothing changed');
        throw err;
      }
    });
  }

  /**
   * The load-bundle command: the bundle at `path`, if its model.onnx has `sha256`, replaces the
   * running one (verified, loaded beside it, warmed up, swapped between two batches). Refused (the
   * old one keeps running) when anything fails. A later reload changes the model only when the
   * file's model section changed.
   */
  loadBundle(path: string, sha256: string, door: string): Promise<ModelReport> {
    return this.oneAtATime(async () => {
      const next = { ...this.cfg.model, bundle: path };
      const classNames = this.cameraIds.map((id) => this.settings!.camera(id).className);
      const loaded = await this.prepareModel(next, classNames, sha256);
      this.swapModel(loaded, door);
      this.cfg.model = next;
      return modelRef(loaded);
    });
  }

  private oneAtATime<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.changes.then(fn, fn);
    this.changes = run.catch(() => undefined);
    return run;
  }

  private async applyReload(): Promise<ReloadReport> {
    const pipeline = this.pipeline;
    if (!pipeline || this.stopping) throw new Error('the service is not running');
    if (!this.opts.loadConfig) throw new Error('this service was started without a config file to reload');
    const next = this.opts.loadConfig();
    const plan = planReload(this.applied, next);
    const report: ReloadReport = {
      added: plan.added.map((c) => c.id),
      removed: plan.removed,
      changed: plan.changed.map((c) => c.id),
      restartNeeded: plan.restartNeeded,
    };
    if (!planChangesSomething(plan)) {
      this.applied = next;
      return report;
    }
    // Check everything first. The cameras as they will run: changed and added ones from the file,
    // the others with their live settings.
    const starting = [...plan.added, ...plan.changed];
    const startingIds = new Set(starting.map((c) => c.id));
    const classNames = [
      ...this.cameraIds
        .filter((id) => !startingIds.has(id) && !plan.removed.includes(id))
        .map((id) => this.settings!.camera(id).className),
      ...starting.map((c) => c.className),
    ];
    for (const cam of starting) this.decisions!.checkCamera(cam);
    let loaded: LoadedModel | undefined;
    if (plan.model) loaded = await this.prepareModel(next.model, classNames);
    else for (const cam of starting) this.model!.stages.checkClassName(cam.className);

    // Then apply: the model, new cameras, changed ones, removed ones.
    if (loaded) {
      this.swapModel(loaded, 'reload');
      this.cfg.model = next.model;
      report.model = modelRef(loaded);
    }
    for (const cam of plan.added) this.startCamera(cam);
    for (const cam of plan.changed) {
      const release = pipeline.hold();
      try {
        await this.stopCamera(cam.id, true);
        this.startCamera(cam);
      } finally {
        release();
      }
    }
    for (const id of plan.removed) await this.stopCamera(id, false);
    this.applied = next;
    this.publishInfo();
    return report;
  }

  /** Loads a model beside the running one; a refusal is logged, counted and shown, then thrown. */
  private async prepareModel(
    model: Config['model'],
    classNames: readonly string[],
    expectSha256?: string,
  ): Promise<LoadedModel> {
    if (!this.pipeline || this.stopping) throw new Error('the service is not running');
    try {
      return await loadModel(model, {
        expectSha256,
        classNames,
        warmUp: true,
        ...this.liveSettings(),
        logger: this.logger,
      });
    } catch (err) {
      const error = (err as Error).message;
      this.metrics.modelLoads.inc({ outcome: 'refused' });
      this.status.setModelRefused({ bundle: model.bundle, at: new Date().toISOString(), error });
      this.logger.error({ bundle: model.bundle, err: error }, 'model bundle refused: the running one stays');
      throw err;
    }
  }

  /** Swaps a loaded model in between two batches; the old engine closes after its last batch. */
  private swapModel(loaded: LoadedModel, door: string): void {
    const old = this.model!;
    const retired = this.pipeline!.swapModel(modelStageSet(loaded), loaded.engine.info.maxBatch);
    this.model = loaded;
    this.context!.model = loaded.provenance;
    reportModel(loaded, { status: this.status, metrics: this.metrics, logger: this.logger });
    this.metrics.modelLoads.inc({ outcome: 'swapped' });
    this.sparkplug?.setModel(modelRef(loaded));
    for (const id of this.cameraIds) this.views.publish(id);
    this.publishInfo();
    this.logger.info({ door, ...modelRef(loaded), before: modelRef(old) }, 'model bundle swapped');
    void retired
      .then(() => old.engine.close())
      .catch((err: unknown) => this.logger.warn({ err }, 'closing the previous engine failed'));
  }

  /** A camera started by a reload: every part learns of it, then its source opens. */
  private startCamera(cam: CameraConfig): void {
    const pipeline = this.pipeline!;
    this.cfg.cameras = [...this.cfg.cameras.filter((c) => c.id !== cam.id), cam];
    if (!this.cameraIds.includes(cam.id)) this.cameraIds.push(cam.id);
    this.decisions!.addCamera(cam);
    this.settings!.add(cam);
    this.status.addCamera(cam);
    this.operator.addCamera(cam.id);
    this.sparkplug?.addCamera(cam);
    pipeline.addCamera(cam);
    if (this.operator.suspensions.isSuspended(cam.id)) pipeline.setSuspended(cam.id, true);
    this.subscribeTrigger(cam);
    this.views.initial({ [cam.id]: pipeline.cameraStates()[cam.id] });
  }

  /**
   * A camera stopped by a reload: its source closes, the frames it admitted are still inspected and
   * published, then the parts forget it (`restart`: it starts again at once with a changed config,
   * under the same id and Sparkplug aliases).
   */
  private async stopCamera(cameraId: string, restart: boolean): Promise<void> {
    await this.pipeline!.removeCamera(cameraId);
    this.decisions!.removeCamera(cameraId);
    this.settings!.remove(cameraId);
    this.status.removeCamera(cameraId);
    this.operator.removeCamera(cameraId);
    this.cfg.cameras = this.cfg.cameras.filter((c) => c.id !== cameraId);
    if (restart) return;
    this.sparkplug?.removeCamera(cameraId);
    const i = this.cameraIds.indexOf(cameraId);
    if (i >= 0) this.cameraIds.splice(i, 1);
    await this.mqtt
      ?.forgetCamera(cameraId)
      .catch((err: unknown) => this.logger.warn({ err }, 'retained state'));
  }

  private subscribeTrigger(cam: CameraConfig): void {
    if (cam.source.kind !== 'trigger' || !cam.source.mqttTopic || !this.mqtt) return;
    const key = `${cam.source.mqttTopic}\0${cam.id}`;
    if (this.triggerTopics.has(key)) return;
    this.triggerTopics.add(key);
    const desk = this.triggerDesk();
    subscribeTriggerTopic(
      cam,
      this.mqtt,
      (id, partId) => 'triggerId' in desk.trigger(id, partId),
      this.logger,
    );
  }

  /** What the model stages read from the running cameras: class names and pixel thresholds. */
  private liveSettings() {
    return {
      classNameOf: (id: string) => this.settings!.camera(id).className,
      pixelThresholdOf: (id: string) => this.decisions?.pixelThreshold(id) ?? -Infinity,
    };
  }

  /** The retained `<base>/info` (device-info.ts): at start and after every reload or swap. */
  private publishInfo(): void {
    const model = this.model;
    if (!model || !this.mqtt) return;
    const info: DeviceInfo = {
      site: this.cfg.site,
      line: this.cfg.line,
      software: softwareVersion(),
      startedAt: this.startedAt,
      model: modelRef(model),
      cameras: [...this.cameraIds],
      ...(this.dashboard && { dashboardUrl: dashboardUrl(this.cfg.dashboard, this.dashboard.address) }),
    };
    void this.mqtt.publishInfo(info).catch((err: unknown) => this.logger.warn({ err }, 'device info'));
  }

  private running(): ServicePipeline {
    if (!this.pipeline) throw new Error('not running yet');
    return this.pipeline;
  }

  private triggerDesk(): TriggerDesk {
    if (!this.desk) throw new Error('not running yet');
    return this.desk;
  }
}
