// The composition root: builds every part from the config, wires them together, starts them in
// order and stops them in reverse. Constructors elsewhere only wire; start()/stop() own life cycles.
import type { Calibration, Config, CameraConfig } from '../config/schema.js';
import type { Engine } from '../engines/engine.js';
import { createEngine } from '../engines/select.js';
import { provenanceFromManifest } from '../events/provenance.js';
import { attachSnapshots, type AnomalyEvent } from '../events/anomaly-event.js';
import { SnapshotStore } from '../events/snapshots.js';
import { createHsfRunner, hsfKindFor } from '../hsf/index.js';
import type { HsfRunner } from '../hsf/types.js';
import { loadBundle, type Bundle } from '../model/bundle.js';
import { MqttService } from '../mqtt/service.js';
import { SparkplugNode } from '../mqtt/sparkplug/node.js';
import { sparkplugOptionsFromConfig } from '../mqtt/sparkplug/from-config.js';
import { metricsFromDecision, thresholdMetrics } from '../mqtt/sparkplug/metrics.js';
import { Decider, type DecideResult } from '../postprocess/decide.js';
import { createPipeline, type Pipeline } from '../pipeline/pipeline.js';
import type { FrameJob } from '../pipeline/stages.js';
import { DashboardServer } from '../dashboard/server.js';
import { Metrics } from '../metrics/metrics.js';
import type { Logger } from '../util/log.js';
import { ModelStages, type BatchOut, type ModelResult } from './model-stages.js';
import { LiveStatus } from './live-status.js';

/** The decision plus where its map came from (snapshots map regions back onto the frame). */
interface Decided {
  decision: DecideResult;
  result: ModelResult;
}

type ServicePipeline = Pipeline<ReturnType<ModelStages['preprocess']>, BatchOut, ModelResult, Decided>;

export class Service {
  /** Resolves with the exit code once the service has stopped (sources ended, or stop()). */
  readonly finished: Promise<number>;
  readonly metrics = new Metrics();
  private resolveFinished!: (code: number) => void;
  private bundle?: Bundle;
  private engine?: Engine;
  private hsf?: HsfRunner;
  private stages?: ModelStages;
  private mqtt?: MqttService;
  private sparkplug?: SparkplugNode;
  private snapshots?: SnapshotStore;
  private dashboard?: DashboardServer;
  private pipeline?: ServicePipeline;
  private readonly deciders = new Map<string, Decider>();
  private readonly cameras = new Map<string, CameraConfig>();
  private readonly status: LiveStatus;
  private stopping?: Promise<void>;

  constructor(
    private readonly cfg: Config,
    private readonly logger: Logger,
  ) {
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
    for (const cam of cfg.cameras) this.cameras.set(cam.id, cam);
    this.status = new LiveStatus(cfg, this.metrics);
  }

  async start(): Promise<void> {
    const { cfg, logger } = this;
    // 1. The model: a bundle that does not match its manifest is refused here, before anything runs.
    const bundle = await loadBundle(cfg.model.bundle);
    this.bundle = bundle;
    if (bundle.untrained) {
      logger.warn(
        { bundle: bundle.dir },
        '*** UNTRAINED MODEL (untrained-test, random weights): scores and events mean NOTHING; for demos and tests only ***',
      );
    }
    this.engine = await createEngine(cfg.model, bundle, logger);
    this.hsf = cfg.model.hsf.enabled
      ? createHsfRunner(hsfKindFor(cfg.model.hsf.device, this.engine.info.hsfInputsOn), logger, {
          threads: cfg.model.hsf.threads || undefined,
        })
      : undefined;
    this.stages = new ModelStages(
      bundle,
      this.engine,
      this.hsf,
      (id) => this.cameras.get(id)!.className,
      (id) => this.deciders.get(id)?.getThresholds().pixel ?? -Infinity,
    );
    for (const cam of cfg.cameras) this.stages.checkClassName(cam.className);
    this.status.setModel({
      bundle: bundle.dir,
      provenance: bundle.manifest.provenance.kind,
      untrained: bundle.untrained,
      backend: `${this.engine.info.backend} (${this.engine.info.device})`,
      hsf: this.hsf ? this.hsf.kind : 'off',
    });
    logger.info(
      {
        backend: this.engine.info.backend,
        device: this.engine.info.device,
        maxBatch: this.engine.info.maxBatch,
        hsf: this.hsf?.kind ?? 'off',
      },
      'model ready',
    );

    // 2. Decisions and snapshots.
    const context = {
      site: cfg.site,
      line: cfg.line,
      model: provenanceFromManifest(bundle.manifest, { hsf: this.hsf !== undefined }),
    };
    for (const cam of cfg.cameras) this.deciders.set(cam.id, new Decider(cam, context, { logger }));
    if (cfg.snapshots.enabled) {
      this.snapshots = new SnapshotStore(cfg.snapshots, logger);
      await this.snapshots.init();
    }

    // 3. MQTT: the durable outbox opens (replaying what an earlier run left) before any frame flows.
    this.mqtt = new MqttService(cfg.mqtt, logger, {
      cameraIds: cfg.cameras.map((c) => c.id),
      statsProvider: () => this.status.statsPayload(this.pipeline?.drops.snapshot() ?? {}),
    });
    this.mqtt.on('state', (s) => {
      this.metrics.mqttConnected.set(s === 'connected' ? 1 : 0);
      this.status.setMqttConnected(s === 'connected');
    });
    this.mqtt.onCommand(this.commandHandlers());
    await this.mqtt.start();
    this.status.setMqttUrl(this.mqtt.brokerUrl ?? '');
    if (cfg.mqtt.sparkplug.enabled) this.startSparkplug();
    this.subscribeTriggerTopics();

    // 4. The dashboard and metrics.
    if (cfg.dashboard.enabled) {
      this.dashboard = new DashboardServer(
        cfg.dashboard,
        this.status.dashboardSource({
          trigger: (id, partId) => this.trigger(id, partId),
          snapshotDir: cfg.snapshots.dir,
        }),
        logger,
      );
      await this.dashboard.start();
    }

    // 5. The pipeline last: frames flow only once everything downstream is ready.
    const stages = this.stages;
    const pipeline: ServicePipeline = createPipeline({
      cameras: cfg.cameras,
      settings: cfg.pipeline,
      maxBatch: this.engine.info.maxBatch,
      log: logger,
      stages: {
        preprocess: stages.preprocess,
        engine: stages.engineRun,
        hsf: stages.fuse,
        decide: (result, job) => this.decide(result, job),
        publish: (decision, job) => this.publish(decision, job),
      },
    });
    this.pipeline = pipeline;
    pipeline.onState((e) => {
      this.metrics.setCameraState(e.cameraId, e.state);
      this.status.setCameraState(e.cameraId, e.state);
      void this.mqtt?.publishState(
        e.cameraId,
        this.status.cameraStatePayload(e.cameraId, this.deciders.get(e.cameraId)!),
      );
      this.sparkplug?.setCameraOnline(e.cameraId, e.state !== 'offline');
      this.sparkplug?.update(e.cameraId, { cameraState: e.state });
    });
    pipeline.onResult((o) => {
      this.metrics.framesInspected.inc({ camera: o.cameraId });
      for (const [stage, ms] of Object.entries(o.timings))
        if (typeof ms === 'number') this.metrics.stageSeconds.observe({ stage }, ms / 1000);
      this.status.recordFrame(o.cameraId, o.decision.decision, o.capturedAtMono, o.publishedAtMono);
    });
    void pipeline.done.then(() => {
      if (!this.stopping) {
        logger.info('every source has ended: stopping');
        void this.stop();
      }
    });
    pipeline.start();
    // Retained state for every camera from the start, also for trigger cameras that wait for a part.
    for (const [id, state] of Object.entries(pipeline.cameraStates())) {
      this.status.setCameraState(id, state);
      this.metrics.setCameraState(id, state);
      void this.mqtt.publishState(id, this.status.cameraStatePayload(id, this.deciders.get(id)!));
    }
    logger.info({ cameras: cfg.cameras.map((c) => c.id), broker: this.mqtt.brokerUrl }, 'inspecting');
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

  private decide(result: ModelResult, job: FrameJob): Decided {
    const decider = this.deciders.get(job.frame.cameraId)!;
    const decision = decider.decide({
      seq: job.frame.seq,
      capturedAtWall: job.frame.capturedAtWall,
      capturedAtMono: job.frame.capturedAtMono,
      partId: job.frame.partId,
      triggerId: job.frame.triggerId,
      score: result.score,
      scoreWithoutHsf: result.scoreWithoutHsf,
      // smoothed wherever a region can be, raw where neither reaches the threshold (region-map.ts)
      mapSmoothed: result.regionMap,
      mapSize: result.mapSize,
      source: result.source,
      timings: job.timings,
    });
    return { decision, result };
  }

  /** Events become durable here (MQTT outbox); snapshots and live views follow. */
  private async publish({ decision: d, result }: Decided, job: FrameJob): Promise<void> {
    const cameraId = job.frame.cameraId;
    this.metrics.score.set({ camera: cameraId }, d.detection.score);
    this.sparkplug?.update(
      cameraId,
      metricsFromDecision({
        score: d.detection.score,
        scoreWithoutHsf: d.detection.scoreWithoutHsf,
        anomalous: d.detection.anomalous,
        active: d.active,
        severity: d.severity,
        regions: d.detection.regions,
        regionsTotal: d.detection.regionsTotal,
        className: d.detection.className,
        eventId: d.event?.id,
      }),
    );
    this.sparkplug?.update(cameraId, this.status.rateMetrics(cameraId));
    if (!d.event) return;
    let event: AnomalyEvent = d.event;
    let jpegs: { id: string; jpeg: Buffer }[] = [];
    if (this.snapshots) {
      try {
        const saved = await this.snapshots.save({
          eventId: event.id,
          cameraId,
          frame: job.frame.image,
          mapSmoothed: this.stages!.smoothed(result),
          mapSize: d.detection.mapSize,
          source: result.source,
          regions: d.detection.regions,
          topic: this.mqtt!.topics.snapshot(cameraId),
        });
        event = attachSnapshots(
          event,
          saved.map((s) => s.ref),
        );
        jpegs = saved.map((s) => ({ id: s.ref.id, jpeg: s.jpeg }));
      } catch (err) {
        // A full disk must not cost the alarm: the event goes out without snapshot references.
        this.logger.error(
          { err, camera: cameraId, event: event.id },
          'snapshot failed; publishing the event without it',
        );
      }
    }
    await this.mqtt!.publishEvent(event as unknown as { id: string; cameraId: string });
    this.metrics.events.inc({ camera: cameraId, severity: event.severity });
    this.status.recordEvent(event);
    // each JPEG goes out under its own snapshot id (<event>-frame, <event>-overlay)
    for (const s of jpegs) await this.mqtt!.publishSnapshot(cameraId, s.id, s.jpeg);
  }

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

  /**
   * Run-time settings from MQTT commands and Sparkplug DCMD writes: validated as a whole before
   * anything changes (a good class name with a bad threshold changes nothing).
   */
  private applySettings(
    cameraId: string,
    patch: { className?: string; thresholds?: unknown },
    calibration?: Calibration,
  ) {
    const decider = this.deciders.get(cameraId);
    if (!decider) throw new Error(`no camera ${JSON.stringify(cameraId)}`);
    if (patch.className !== undefined) this.stages?.checkClassName(patch.className);
    const applied = decider.applySettings(patch);
    const cam = {
      ...this.cameras.get(cameraId)!,
      className: applied.className,
      thresholds: { ...applied.thresholds },
    };
    this.cameras.set(cameraId, cam);
    this.pipeline?.updateCamera(cam);
    this.status.noteThresholds(cameraId, patch.thresholds as object | undefined, calibration);
    this.sparkplug?.update(cameraId, {
      className: applied.className,
      ...thresholdMetrics(applied.thresholds),
    });
    void this.mqtt?.publishState(cameraId, this.status.cameraStatePayload(cameraId, decider));
    this.logger.info({ camera: cameraId, ...applied }, 'camera settings changed');
    return applied;
  }

  private commandHandlers() {
    return {
      setClass: (cameraId: string, className: string) => ({
        className: this.applySettings(cameraId, { className }).className,
      }),
      setThresholds: (cameraId: string, t: unknown, calibration?: Calibration) => ({
        thresholds: this.applySettings(cameraId, { thresholds: t }, calibration).thresholds,
        ...(calibration && { calibration }),
      }),
      trigger: (cameraId: string, partId: string | undefined) => {
        if (!this.pipeline) throw new Error('not running yet');
        return { triggerId: this.pipeline.trigger(cameraId, partId) };
      },
      status: () => this.status.snapshot(),
      rebirth: () => {
        this.sparkplug?.rebirth();
        for (const id of this.cameras.keys())
          void this.mqtt?.publishState(id, this.status.cameraStatePayload(id, this.deciders.get(id)!));
        return { rebirth: true };
      },
    };
  }

  private startSparkplug(): void {
    const node = new SparkplugNode(
      sparkplugOptionsFromConfig(this.cfg, {
        url: this.mqtt!.brokerUrl,
        // the embedded broker (aedes) speaks MQTT 3.1.1 only
        protocolVersion: this.cfg.mqtt.url ? this.cfg.mqtt.protocolVersion : 4,
        logger: this.logger,
        softwareVersion: `adaclip-edge ${this.bundle?.manifest.provenance.exporter ?? ''}`.trim(),
      }),
    );
    node.onWrite((w) => {
      const applied = this.applySettings(w.cameraId, { className: w.className, thresholds: w.thresholds });
      return { className: applied.className, ...thresholdMetrics(applied.thresholds) };
    });
    this.sparkplug = node;
    node.start();
  }

  /** Trigger cameras with an mqttTopic capture the next frame when a message arrives there. */
  private subscribeTriggerTopics(): void {
    for (const cam of this.cfg.cameras) {
      if (cam.source.kind !== 'trigger' || !cam.source.mqttTopic) continue;
      const topic = cam.source.mqttTopic;
      this.mqtt!.subscribe(topic, (payload) => {
        const partId = parsePartId(payload);
        if (!this.trigger(cam.id, partId))
          this.logger.warn({ camera: cam.id, topic }, 'trigger message ignored');
      });
    }
  }
}

/** A trigger payload is a bare part id, or JSON with a partId field; anything else: no part id. */
export function parsePartId(payload: Buffer): string | undefined {
  const text = payload.toString('utf8').trim();
  if (text.length === 0 || text.length > 128) return undefined;
  if (text.startsWith('{')) {
    try {
      const v = (JSON.parse(text) as { partId?: unknown }).partId;
      return typeof v === 'string' && v.length <= 128 ? v : undefined;
    } catch {
      return undefined;
    }
  }
  return /^[\x20-\x7e]+$/.test(text) ? text : undefined;
}
