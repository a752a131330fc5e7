// The composition root: builds every part from the config, wires them together, starts them in
// order and stops them in reverse. Constructors elsewhere only wire; start()/stop() own life cycles.
// What happens at run time lives in the parts: the decide stage (decision-stage.ts), the publish
// stage (result-publisher.ts), per-part results (result-ledger.ts), run-time settings
// (camera-settings.ts), the operator's loop (operator-loop.ts: history, alarms, acknowledgements,
// reviews, suspensions), the MQTT doors (mqtt-doors.ts), Sparkplug B (sparkplug-feed.ts); they meet
// on the event bus (event-bus.ts).
import { randomUUID } from 'node:crypto';
import type { Config } from '../config/schema.js';
import type { Engine } from '../engines/engine.js';
import { createEngine } from '../engines/select.js';
import { errorResult, type ResultContext } from '../events/inspection-result.js';
import { provenanceFromManifest } from '../events/provenance.js';
import { SnapshotStore } from '../events/snapshots.js';
import type { HsfRunner } from '../hsf/types.js';
import { loadBundle, type Bundle } from '../model/bundle.js';
import { MqttLink } from '../mqtt/mqtt-link.js';
import { createPipeline, type Pipeline } from '../pipeline/pipeline.js';
import { TriggerRejectedError } from '../sources/trigger.js';
import { DashboardServer } from '../dashboard/server.js';
import type { TriggerOutcome } from '../dashboard/types.js';
import { Metrics, type CameraState } from '../metrics/prometheus.js';
import type { Logger } from '../util/log.js';
import { CameraSettings, type SettingsChanged } from './camera-settings.js';
import { dashboardSource } from './dashboard-api.js';
import { DecisionStage, type Decided } from './decision-stage.js';
import { ServiceBus } from './event-bus.js';
import { LiveFrames } from './live-frames.js';
import { LiveStatus } from './live-status.js';
import { feedMetrics, feedMqttMetrics, feedPipelineMetrics } from './metrics-feed.js';
import { ModelStages, hsfFor, type BatchOut, type ModelResult } from './model-stages.js';
import { mqttCommandHandlers, subscribeTriggerTopics } from './mqtt-doors.js';
import { OperatorLoop } from './operator-loop.js';
import { readiness, type Readiness } from './readiness.js';
import { ResultLedger } from './result-ledger.js';
import { ResultPublisher } from './result-publisher.js';
import { SparkplugFeed } from './sparkplug-feed.js';

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
    this.operator = new OperatorLoop(cfg, { bus: this.bus, metrics: this.metrics, logger });
    this.subscribeLiveViews();
  }

  async start(): Promise<void> {
    const { cfg, logger, bus, status, operator } = this;
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

    // 2. Decisions, run-time settings, snapshots and the operator's loop (history: a bad
    // history.path stops the start here).
    const model = provenanceFromManifest(bundle.manifest, { hsf: hsf !== undefined });
    const context: ResultContext = { site: cfg.site, line: cfg.line, model };
    const decisions = (this.decisions = new DecisionStage(cfg.cameras, context, logger));
    const checkClassName = (name: string) => stages.checkClassName(name);
    const changed = (c: SettingsChanged) => bus.emit('settings', c);
    this.settings = new CameraSettings(cfg.cameras, { decisions, checkClassName, changed, logger });
    const snapshots = cfg.snapshots.enabled ? new SnapshotStore(cfg.snapshots, logger) : undefined;
    await snapshots?.init();
    operator.start();

    // 3. MQTT: the durable outbox opens (replaying what an earlier run left) before any frame flows.
    const mqtt = (this.mqtt = new MqttLink(cfg.mqtt, logger, {
      cameraIds: cfg.cameras.map((c) => c.id),
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
        trigger: (id, partId) => this.triggerPart(id, partId),
        status: () => status.snapshot(),
        rebirth: () => {
          this.sparkplug?.rebirth();
          for (const id of cfg.cameras.map((c) => c.id)) this.publishCameraState(id);
        },
      }),
    );
    this.ledger = new ResultLedger({
      persist: (r) => mqtt.publishResult(r),
      durable: (r) => bus.emit('result', r),
      errorDoc: (part, reason, detail) =>
        errorResult(context, part, {
          reason,
          detail,
          className: this.settings!.camera(part.cameraId).className,
        }),
      resultTimeoutMs: (id) => {
        const src = this.settings!.camera(id).source;
        return src.kind === 'trigger' ? src.resultTimeoutMs : 60_000;
      },
      late: (part) => this.metrics.resultsLate.inc({ camera: part.cameraId }),
      logger,
    });
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
      });
      this.sparkplug.start();
    }
    subscribeTriggerTopics(cfg, mqtt, (id, partId) => 'triggerId' in this.trigger(id, partId), logger);

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
        settings: () => this.settings!,
        live,
        readiness: () => this.readiness(),
        trigger: (id, partId) => this.trigger(id, partId),
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
      results: { ledger: this.ledger, context },
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
    pipeline.drops.onDrop((e) => {
      // a part's frame, or a trigger, that left the pipeline uninspected: its result says why
      if (e.triggerId === undefined) return;
      void this.ledger!.fail(
        { cameraId: e.cameraId, triggerId: e.triggerId, partId: e.partId, triggeredAtWall: Date.now() },
        e.reason,
        e.detail ?? `frame dropped (${e.reason})`,
      );
    });
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
    for (const [id, state] of Object.entries(pipeline.cameraStates())) {
      status.setCameraState(id, state);
      this.metrics.setCameraState(id, (status.viewState(id) ?? state) as CameraState);
      this.publishCameraState(id);
    }
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
      const undelivered = await this.stopMqtt();
      await this.engine?.close().catch((err: unknown) => this.logger.warn({ err }, 'engine close'));
      this.operator.stop();
      this.resolveFinished(undelivered > 0 ? EXIT_UNDELIVERED : 0);
    })();
    return this.stopping;
  }

  /** Stops MQTT; returns (and reports) how many accepted documents stay undelivered on disk. */
  private async stopMqtt(): Promise<number> {
    const mqtt = this.mqtt;
    if (!mqtt) return 0;
    let final: Awaited<ReturnType<MqttLink['stop']>>;
    try {
      final = await mqtt.stop();
    } catch (err) {
      this.logger.warn({ err }, 'mqtt stop');
      return 0;
    }
    const { pending: undelivered, accepted, delivered } = final;
    if (undelivered > 0) {
      this.logger.error(
        { undelivered, outbox: mqtt.outboxPath, drainTimeoutMs: this.cfg.mqtt.outbox.drainTimeoutMs },
        `${undelivered} accepted events/results were not delivered to the broker: they stay in ${mqtt.outboxPath} and are published first at the next start (exit code ${EXIT_UNDELIVERED})`,
      );
    } else this.logger.info({ accepted, delivered }, 'outbox empty: every accepted document was delivered');
    return undelivered;
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

  /** Metrics, the live status (dashboard, status command, stats) and the retained MQTT topics. */
  private subscribeLiveViews(): void {
    feedMetrics(this.bus, this.metrics);
    this.status.subscribe(this.bus);
    // after the live status has the change: the payload is built from it
    const stateMetric = (cameraId: string) => {
      const state = this.status.viewState(cameraId);
      if (state) this.metrics.setCameraState(cameraId, state as CameraState);
    };
    this.bus.on('cameraState', ({ cameraId }) => {
      stateMetric(cameraId);
      this.publishCameraState(cameraId);
    });
    this.bus.on('settings', ({ cameraId }) => this.publishCameraState(cameraId));
    this.bus.on('suspension', ({ cameraId }) => {
      stateMetric(cameraId);
      this.publishCameraState(cameraId);
    });
    this.bus.on('alarm', (a) => void this.mqtt?.publishAlarm(a.cameraId, { ...a }));
  }

  /** The retained `<base>/<camera>/state`, from the live status and the camera's Decider. */
  private publishCameraState(cameraId: string): void {
    if (!this.decisions) return;
    void this.mqtt?.publishState(
      cameraId,
      this.status.cameraStatePayload(cameraId, this.decisions.decider(cameraId)),
    );
  }

  /**
   * A part arrived at a trigger camera (PLC topic, command, dashboard): returns the trigger id, or
   * throws when refused. Every trigger of a trigger camera is answered by exactly one inspection
   * result, refused ones included (verdict error: suspended, or too many waiting).
   */
  private triggerPart(cameraId: string, partId?: string): string {
    const pipeline = this.pipeline;
    const ledger = this.ledger;
    if (!pipeline || !ledger) throw new Error('not running yet');
    const cam = this.cfg.cameras.find((c) => c.id === cameraId);
    const triggeredAtWall = Date.now();
    if (cam?.source.kind === 'trigger') this.metrics.triggers.inc({ camera: cameraId });
    const suspension = this.operator.suspensions.get(cameraId);
    if (cam?.source.kind === 'trigger' && suspension) {
      const triggerId = randomUUID();
      const why = `camera ${cameraId} is suspended${suspension.until ? ` until ${suspension.until}` : ''} (by ${suspension.by})`;
      ledger.register({ cameraId, triggerId, partId, triggeredAtWall });
      void ledger.fail({ cameraId, triggerId, partId, triggeredAtWall }, 'suspended', why);
      throw new Error(`${why}: answered with verdict error`);
    }
    let triggerId: string;
    try {
      triggerId = pipeline.trigger(cameraId, partId);
    } catch (err) {
      if (err instanceof TriggerRejectedError && err.kind !== 'invalid') {
        const refused = randomUUID();
        ledger.register({ cameraId, triggerId: refused, partId, triggeredAtWall });
        void ledger.fail(
          { cameraId, triggerId: refused, partId, triggeredAtWall },
          'trigger-rejected',
          err.message,
        );
      }
      throw err;
    }
    ledger.register({ cameraId, triggerId, partId, triggeredAtWall });
    return triggerId;
  }

  /** A trigger from a PLC topic or the dashboard: its id, or why it was refused (logged). */
  private trigger(cameraId: string, partId?: string): TriggerOutcome {
    try {
      return { triggerId: this.triggerPart(cameraId, partId) };
    } catch (err) {
      const refused = (err as Error).message;
      this.logger.warn({ camera: cameraId, err: refused }, 'trigger refused');
      return { refused };
    }
  }
}
