// The composition root: builds every part from the config, wires them together, starts them in
// order and stops them in reverse. Constructors elsewhere only wire; start()/stop() own life cycles.
// What happens at run time lives in the parts beside this file, which meet on the event bus
// (event-bus.ts); docs/architecture.md says which part owns what. Changes without a restart
// (reload, load-bundle) are applied to the running parts by live-changes.ts.
import type { Config } from '../config/schema.js';
import type { ResultContext } from '../events/inspection-result.js';
import { SnapshotStore } from '../events/snapshots.js';
import { MqttLink } from '../mqtt/mqtt-link.js';
import { DashboardServer } from '../dashboard/server.js';
import { Metrics } from '../metrics/prometheus.js';
import { CommandPolicy } from '../operator/command-policy.js';
import type { Logger } from '../util/log.js';
import { CameraSettings, type SettingsChanged } from './camera-settings.js';
import { CameraStateFeed } from './camera-state-feed.js';
import { dashboardSource } from './dashboard-api.js';
import { DecisionStage } from './decision-stage.js';
import { publishDeviceInfo } from './device-info.js';
import { ServiceBus } from './event-bus.js';
import { LiveChanges, type RunningParts } from './live-changes.js';
import { LiveFrames } from './live-frames.js';
import { LiveStatus } from './live-status.js';
import { feedMqttMetrics } from './metrics-feed.js';
import { modelRef } from './model-loader.js';
import { mqttCommandHandlers } from './mqtt-doors.js';
import { OperatorLoop } from './operator-loop.js';
import { readinessOf, type Readiness } from './readiness.js';
import type { ResultLedger } from './result-ledger.js';
import { ResultPublisher } from './result-publisher.js';
import { buildServicePipeline, type ServicePipeline } from './service-pipeline.js';
import { SparkplugFeed } from './sparkplug-feed.js';
import { shutdown } from './shutdown.js';
import { checkStateFolders } from './state-check.js';
import { TriggerDesk, createResultLedger } from './trigger-desk.js';

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
  private readonly policy: CommandPolicy;
  private readonly views: CameraStateFeed;
  /** The model in use; reloads and bundle loads (the doors call it). */
  readonly changes: LiveChanges;
  /** The running cameras' ids, shared (and changed in place) with the command router and the dashboard. */
  private readonly cameraIds: string[];
  private readonly startedAt = new Date().toISOString();
  private decisions?: DecisionStage;
  private settings?: CameraSettings;
  private mqtt?: MqttLink;
  private ledger?: ResultLedger;
  private sparkplug?: SparkplugFeed;
  private dashboard?: DashboardServer;
  private pipeline?: ServicePipeline;
  /** What a live change touches, once the pipeline is built. */
  private parts?: RunningParts;
  private stopping?: Promise<void>;

  constructor(
    private readonly cfg: Config,
    private readonly logger: Logger,
    opts: ServiceOptions = {},
  ) {
    this.cameraIds = cfg.cameras.map((c) => c.id);
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
    const bus = (this.bus = new ServiceBus(logger));
    const { metrics } = this;
    const status = (this.status = new LiveStatus(cfg));
    // one rule book for every door: JSON commands, Sparkplug DCMD, the dashboard (mqtt.commands)
    const policy = (this.policy = new CommandPolicy(cfg.mqtt.commands));
    const authorise = policy.authorise;
    const operator = (this.operator = new OperatorLoop(cfg, { bus, metrics, logger, authorise }));
    const views = (this.views = new CameraStateFeed(bus, status, metrics));
    this.changes = new LiveChanges({
      cfg,
      cameraIds: this.cameraIds,
      loadConfig: opts.loadConfig,
      running: () => (this.stopping ? undefined : this.parts),
      liveSettings: {
        classNameOf: (id) => this.settings!.camera(id).className,
        pixelThresholdOf: (id) => this.decisions?.pixelThreshold(id) ?? -Infinity,
      },
      publishInfo: () => this.publishInfo(),
      status,
      metrics,
      operator,
      views,
      logger,
    });
  }

  async start(): Promise<void> {
    const { cfg, logger, bus, status, operator, metrics } = this;
    // 0. The state directory: a folder it cannot write stops the start, naming the key to change.
    checkStateFolders(cfg);
    // 1. The model: a bundle that does not match its manifest is refused here, before anything runs.
    const loaded = await this.changes.loadAtStart();
    const model = () => this.changes.model!;

    // 2. Decisions, run-time settings, snapshots and the operator's loop (history: a bad
    // history.path stops the start here).
    const context: ResultContext = { site: cfg.site, line: cfg.line, model: loaded.provenance };
    const decisions = (this.decisions = new DecisionStage(cfg.cameras, context, logger));
    const checkClassName = (name: string) => model().stages.checkClassName(name);
    const changed = (c: SettingsChanged) => bus.emit('settings', c);
    const { policy } = this;
    this.settings = new CameraSettings(cfg.cameras, { decisions, checkClassName, changed, logger, policy });
    const snapshots = cfg.snapshots.enabled ? new SnapshotStore(cfg.snapshots, logger) : undefined;
    await snapshots?.init();
    operator.start();

    // 3. MQTT: the durable outbox opens (replaying what an earlier run left) before any frame flows.
    const mqtt = (this.mqtt = new MqttLink(cfg.mqtt, logger, {
      cameraIds: this.cameraIds,
      policy,
      statsProvider: () => status.statsPayload(this.pipeline?.drops.snapshot() ?? {}),
    }));
    mqtt.on('state', (s) => status.setMqttConnected(s === 'connected'));
    feedMqttMetrics(mqtt, metrics);
    const outboxDepth = () => mqtt.getStats().outbox.pending;
    metrics.readAtScrape({ outboxDepth });
    status.setProviders({ drops: () => this.pipeline?.drops.snapshot() ?? {}, outboxDepth });
    const settings = () => this.settings!;
    const ledger = (this.ledger = createResultLedger({ mqtt, bus, settings, context, metrics, logger }));
    const { suspensions } = operator;
    const cameras = () => this.cfg.cameras;
    const pipelineTrigger = (id: string, partId?: string) => {
      if (!this.pipeline) throw new Error('not running yet');
      return this.pipeline.trigger(id, partId);
    };
    const desk = new TriggerDesk({ cameras, pipelineTrigger, ledger, mqtt, suspensions, metrics, logger });
    mqtt.onCommand(
      mqttCommandHandlers({
        settings: this.settings,
        suspensions,
        trigger: (id, partId) => desk.triggerPart(id, partId),
        status: () => status.snapshot(),
        rebirth: () => {
          this.sparkplug?.rebirth();
          for (const id of cfg.cameras.map((c) => c.id)) this.views.publish(id);
        },
        reload: () => this.changes.reload('mqtt'),
        loadBundle: (path, sha256) => this.changes.loadBundle(path, sha256, 'mqtt'),
      }),
    );
    await mqtt.start();
    status.setMqttUrl(mqtt.brokerUrl ?? '');
    for (const a of operator.board.all()) void mqtt.publishAlarm(a.cameraId, { ...a });
    if (cfg.mqtt.sparkplug.enabled) {
      const softwareVersion = `adaclip-edge ${loaded.bundle.manifest.provenance.exporter ?? ''}`.trim();
      const deps = { url: mqtt.brokerUrl, bus, settings: this.settings, suspensions, status, logger };
      const stateWriteFailed = (file: string) => metrics.stateWriteErrors.inc({ file });
      const more = { softwareVersion, model: modelRef(loaded), policy, stateWriteFailed };
      this.sparkplug = new SparkplugFeed(cfg, { ...deps, ...more });
      this.sparkplug.start();
    }
    for (const cam of cfg.cameras) desk.listen(cam);

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
        trigger: (id, partId) => desk.httpTrigger(id, partId),
        cameraIds: this.cameraIds,
        snapshotDir: cfg.snapshots.dir,
        reviewsDir: cfg.history.reviewsDir,
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
    const stages = { model: loaded, decisions, publisher, desk };
    const pipeline = (this.pipeline = buildServicePipeline(cfg, { ...stages, bus, metrics, logger }));
    suspensions.restore();
    void pipeline.done.then(() => {
      if (!this.stopping) {
        logger.info('every source has ended: stopping');
        void this.stop();
      }
    });
    const { settings: cameraSettings, sparkplug } = this;
    this.parts = { pipeline, decisions, settings: cameraSettings!, mqtt, desk, sparkplug, context };
    pipeline.start();
    // Retained state for every camera from the start, also for trigger cameras that wait for a part.
    this.views.connect(mqtt, decisions);
    this.views.initial(pipeline.cameraStates());
    logger.info({ cameras: cfg.cameras.map((c) => c.id), broker: mqtt.brokerUrl }, 'inspecting');
  }

  /** Stops in reverse order (shutdown.ts); the exit code says whether anything stayed undelivered. Idempotent. */
  stop(): Promise<void> {
    const { pipeline, ledger, mqtt, dashboard, sparkplug, operator, logger } = this;
    const drainTimeoutMs = this.cfg.mqtt.outbox.drainTimeoutMs;
    const parts = { pipeline, ledger, mqtt, dashboard, sparkplug, operator, logger, drainTimeoutMs };
    this.stopping ??= shutdown({ ...parts, engines: this.changes }).then(this.resolveFinished);
    return this.stopping;
  }

  /** GET /readyz. */
  readiness(): Readiness {
    const { decisions, mqtt, pipeline, status } = this;
    const cameras = (id: string) => (pipeline ? status.viewState(id) : undefined);
    return readinessOf({ modelLoaded: decisions !== undefined, mqtt, cameras }, this.cfg);
  }

  /** The retained `<base>/info` (device-info.ts): at start and after every reload or swap. */
  private publishInfo(): void {
    const { mqtt, cfg, startedAt, cameraIds: cameras, dashboard } = this;
    const model = this.changes.model;
    if (!model || !mqtt) return;
    const info = { cfg, startedAt, model: modelRef(model), cameras, dashboardAddress: dashboard?.address };
    publishDeviceInfo(mqtt, info, this.logger);
  }
}
