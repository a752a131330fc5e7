// The composition root: builds every part from the config, wires them together, starts them in
// order and stops them in reverse. Constructors elsewhere only wire; start()/stop() own life cycles.
// What happens at run time lives in the parts beside this file, which meet on the event bus
// (event-bus.ts); docs/architecture.md says which part owns what.
import type { Config } from '../config/schema.js';
import type { Engine } from '../engines/engine.js';
import type { ResultContext } from '../events/inspection-result.js';
import { provenanceFromManifest } from '../events/provenance.js';
import { SnapshotStore } from '../events/snapshots.js';
import { MqttLink } from '../mqtt/mqtt-link.js';
import { createPipeline, type Pipeline } from '../pipeline/pipeline.js';
import { DashboardServer } from '../dashboard/server.js';
import { Metrics } from '../metrics/prometheus.js';
import { CommandPolicy } from '../operator/command-policy.js';
import type { Logger } from '../util/log.js';
import { CameraSettings, type SettingsChanged } from './camera-settings.js';
import { CameraStateFeed } from './camera-state-feed.js';
import { dashboardSource } from './dashboard-api.js';
import { DecisionStage, type Decided } from './decision-stage.js';
import { ServiceBus } from './event-bus.js';
import { LiveFrames } from './live-frames.js';
import { LiveStatus } from './live-status.js';
import { feedMqttMetrics, feedPipelineMetrics } from './metrics-feed.js';
import { loadModel } from './load-model.js';
import { ModelStages, type BatchOut, type ModelResult } from './model-stages.js';
import { mqttCommandHandlers, subscribeTriggerTopics } from './mqtt-doors.js';
import { OperatorLoop } from './operator-loop.js';
import { readiness, type Readiness } from './readiness.js';
import type { ResultLedger } from './result-ledger.js';
import { ResultPublisher } from './result-publisher.js';
import { SparkplugFeed } from './sparkplug-feed.js';
import { checkStateFolders } from './state-check.js';
import { TriggerDesk, createResultLedger } from './trigger-desk.js';

/** The exit code of a run that ended with accepted events or results still undelivered on disk. */
export const EXIT_UNDELIVERED = 3;

type ServicePipeline = Pipeline<ReturnType<ModelStages['preprocess']>, BatchOut, ModelResult, Decided>;

export class Service {
  /** Resolves with the exit code once the service has stopped (sources ended, or stop()). */
  readonly finished: Promise<number>;
  readonly metrics = new Metrics();
  private resolveFinished!: (code: number) => void;
  private readonly bus: ServiceBus;
  private readonly status: LiveStatus;
  private readonly operator: OperatorLoop;
  private readonly views: CameraStateFeed;
  /** One rule book for every door: JSON commands, Sparkplug DCMD, the dashboard (mqtt.commands). */
  private readonly policy: CommandPolicy;
  private desk?: TriggerDesk;
  private engine?: Engine;
  private decisions?: DecisionStage;
  private settings?: CameraSettings;
  private mqtt?: MqttLink;
  private ledger?: ResultLedger;
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
    this.status = new LiveStatus(cfg);
    this.policy = new CommandPolicy(cfg.mqtt.commands);
    const authorise = this.policy.authorise;
    this.operator = new OperatorLoop(cfg, { bus: this.bus, metrics: this.metrics, logger, authorise });
    this.views = new CameraStateFeed(this.bus, this.status, this.metrics);
  }

  async start(): Promise<void> {
    const { cfg, logger, bus, status, operator } = this;
    // 0. The state directory: a folder it cannot write stops the start, naming the key to change.
    checkStateFolders(cfg);
    // 1. The model (a bundle that does not match its manifest is refused here).
    const { bundle, engine, hsf } = await loadModel(cfg, status, logger);
    this.engine = engine;
    const stages = new ModelStages(
      bundle,
      engine,
      hsf,
      (id) => this.settings!.camera(id).className,
      (id) => this.decisions?.pixelThreshold(id) ?? -Infinity,
      cfg.model.classNameCacheSize,
    );
    for (const cam of cfg.cameras) stages.checkClassName(cam.className);

    // 2. Decisions, run-time settings, snapshots and the operator's loop (history: a bad
    // history.path stops the start here).
    const model = provenanceFromManifest(bundle.manifest, { hsf: hsf !== undefined });
    const context: ResultContext = { site: cfg.site, line: cfg.line, model };
    const decisions = (this.decisions = new DecisionStage(cfg.cameras, context, logger));
    const checkClassName = (name: string) => stages.checkClassName(name);
    const changed = (c: SettingsChanged) => bus.emit('settings', c);
    const { policy } = this;
    this.settings = new CameraSettings(cfg.cameras, { decisions, checkClassName, changed, logger, policy });
    const snapshots = cfg.snapshots.enabled ? new SnapshotStore(cfg.snapshots, logger) : undefined;
    await snapshots?.init();
    operator.start();

    // 3. MQTT: the durable outbox opens (replaying what an earlier run left) before any frame flows.
    const mqtt = (this.mqtt = new MqttLink(cfg.mqtt, logger, {
      cameraIds: cfg.cameras.map((c) => c.id),
      policy: this.policy,
      statsProvider: () => status.statsPayload(this.pipeline?.drops.snapshot() ?? {}),
    }));
    mqtt.on('state', (s) => status.setMqttConnected(s === 'connected'));
    feedMqttMetrics(mqtt, this.metrics);
    const outboxDepth = () => mqtt.getStats().outbox.pending;
    this.metrics.readAtScrape({ outboxDepth });
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
      }),
    );
    const settings = () => this.settings!;
    const { metrics } = this;
    const ledger = (this.ledger = createResultLedger({ mqtt, bus, settings, context, metrics, logger }));
    await mqtt.start();
    status.setMqttUrl(mqtt.brokerUrl ?? '');
    for (const a of operator.board.all()) void mqtt.publishAlarm(a.cameraId, { ...a });
    if (cfg.mqtt.sparkplug.enabled) {
      const softwareVersion = `adaclip-edge ${bundle.manifest.provenance.exporter ?? ''}`.trim();
      const { suspensions } = operator;
      const deps = { url: mqtt.brokerUrl, bus, settings: this.settings, suspensions, status, logger };
      const stateWriteFailed = (file: string) => this.metrics.stateWriteErrors.inc({ file });
      this.sparkplug = new SparkplugFeed(cfg, {
        ...deps,
        policy: this.policy,
        softwareVersion,
        stateWriteFailed,
      });
      this.sparkplug.start();
    }
    const desk = (this.desk = new TriggerDesk({
      cameras: cfg.cameras,
      pipelineTrigger: (id, partId) => this.running().trigger(id, partId),
      ledger,
      suspensions: operator.suspensions,
      metrics,
      logger,
    }));
    subscribeTriggerTopics(cfg, mqtt, (id, partId) => 'triggerId' in desk.trigger(id, partId), logger);

    // 4. The dashboard and metrics.
    const live = new LiveFrames({
      smoothed: (r) => stages.smoothed(r),
      kept: (cameraId, seq, at) => bus.emit('liveFrame', { cameraId, seq, at }),
      jpegQuality: cfg.snapshots.jpegQuality,
      logger,
    });
    if (cfg.dashboard.enabled) {
      const source = dashboardSource({
        status,
        bus,
        metrics: this.metrics,
        operator,
        settings,
        live,
        readiness: () => this.readiness(),
        trigger: (id, partId) => desk.trigger(id, partId),
        cameraIds: cfg.cameras.map((c) => c.id),
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
      resultSnapshots: cfg.snapshots.results,
      smoothed: (r) => stages.smoothed(r),
      results: { ledger, context },
      live,
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
    feedPipelineMetrics(pipeline, this.metrics);
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

  /**
   * Stops in reverse order: drain the pipeline, answer open triggers, deliver the outbox (up to
   * mqtt.outbox.drainTimeoutMs), then the rest. Idempotent. The exit code is EXIT_UNDELIVERED when
   * accepted documents are still on disk, waiting for the next start.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const report = await this.pipeline?.stop();
      if (report && !report.drained) this.logger.warn({ abandoned: report.abandoned }, 'drain time ran out');
      await this.ledger
        ?.close('shutdown', 'the service stopped before this trigger had a result')
        .catch((err: unknown) => this.logger.warn({ err }, 'results at stop'));
      await this.mqtt
        ?.drain(this.cfg.mqtt.outbox.drainTimeoutMs)
        .catch((err: unknown) => this.logger.warn({ err }, 'outbox drain'));
      await this.dashboard?.stop().catch((err: unknown) => this.logger.warn({ err }, 'dashboard stop'));
      await this.sparkplug?.stop().catch((err: unknown) => this.logger.warn({ err }, 'sparkplug stop'));
      const undelivered = await this.mqtt
        ?.stop()
        .then((final) => final.pending)
        .catch((err: unknown) => void this.logger.warn({ err }, 'mqtt stop'));
      await this.engine?.close().catch((err: unknown) => this.logger.warn({ err }, 'engine close'));
      this.operator.stop();
      this.resolveFinished(undelivered ? EXIT_UNDELIVERED : 0);
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

  private running(): ServicePipeline {
    if (!this.pipeline) throw new Error('not running yet');
    return this.pipeline;
  }

  private triggerDesk(): TriggerDesk {
    if (!this.desk) throw new Error('not running yet');
    return this.desk;
  }
}
