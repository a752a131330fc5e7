// Changes to a running service without a restart (docs/live-changes.md): SIGHUP and the reload
// command re-read the config file and apply what changed since it was last applied (planned by
// config-reload.ts); load-bundle swaps in a verified bundle. A model is loaded beside the running one
// (model-loader.ts) and swapped by the pipeline between two batches; cameras start and stop alone
// while the others keep running. Changes run one at a time. It holds the model in use (loaded at
// start, closed at stop); the service hands it the running parts once the pipeline is built.
import type { CameraConfig, Config } from '../config/schema.js';
import type { ResultContext } from '../events/inspection-result.js';
import type { Metrics } from '../metrics/prometheus.js';
import type { MqttLink } from '../mqtt/mqtt-link.js';
import type { Logger } from '../util/log.js';
import type { CameraSettings } from './camera-settings.js';
import type { CameraStateFeed } from './camera-state-feed.js';
import { planChangesSomething, planReload } from './config-reload.js';
import type { DecisionStage } from './decision-stage.js';
import type { LiveStatus } from './live-status.js';
import {
  loadModel,
  modelRef,
  modelStageSet,
  reportModel,
  type LoadedModel,
  type LoadModelOptions,
  type ModelReport,
} from './model-loader.js';
import type { OperatorLoop } from './operator-loop.js';
import type { ServicePipeline } from './service-pipeline.js';
import type { SparkplugFeed } from './sparkplug-feed.js';
import type { TriggerDesk } from './trigger-desk.js';

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

/** The running parts a change touches. */
export interface RunningParts {
  pipeline: ServicePipeline;
  decisions: DecisionStage;
  settings: CameraSettings;
  mqtt: MqttLink;
  desk: TriggerDesk;
  sparkplug?: SparkplugFeed;
  /** Site, line and the model in use, stamped on every event and result. */
  context: ResultContext;
}

export interface LiveChangesDeps {
  /** The running config: its cameras and model are replaced as changes apply. */
  cfg: Config;
  /** The running cameras' ids, changed in place (shared with the command router and the dashboard). */
  cameraIds: string[];
  /** Reads the config file again; without it a reload is refused. */
  loadConfig?: () => Config;
  /** The running parts; undefined until the pipeline is built and once the service stops. */
  running: () => RunningParts | undefined;
  /** What the model stages read from the running cameras: class names and pixel thresholds. */
  liveSettings: Pick<LoadModelOptions, 'classNameOf' | 'pixelThresholdOf'>;
  /** The retained `<base>/info` again, after every change. */
  publishInfo: () => void;
  status: LiveStatus;
  metrics: Metrics;
  operator: OperatorLoop;
  views: CameraStateFeed;
  logger: Logger;
}

export class LiveChanges {
  /** The model in use: loaded at start, replaced between two batches by a reload or load-bundle. */
  private current?: LoadedModel;
  /** The config file as last applied: what a reload compares the file with. */
  private applied: Config;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: LiveChangesDeps) {
    this.applied = structuredClone(deps.cfg);
  }

  get model(): LoadedModel | undefined {
    return this.current;
  }

  /** The first model, at start (nothing runs yet: no warm-up); a bundle not matching its manifest is refused. */
  async loadAtStart(): Promise<LoadedModel> {
    const { cfg, liveSettings, status, metrics, logger } = this.deps;
    const classNames = cfg.cameras.map((c) => c.className);
    const loaded = await loadModel(cfg.model, { classNames, warmUp: false, ...liveSettings, logger });
    reportModel(loaded, { status, metrics, logger });
    return (this.current = loaded);
  }

  /** At stop, once the pipeline has drained: the engine of the model in use. */
  async close(): Promise<void> {
    await this.current?.engine.close();
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
    const { metrics, logger } = this.deps;
    return this.oneAtATime(async () => {
      try {
        const report = await this.applyReload();
        const outcome =
          report.added.length + report.removed.length + report.changed.length > 0 || report.model
            ? 'applied'
            : 'unchanged';
        metrics.reloads.inc({ outcome });
        logger.info({ door, ...report }, `config reload ${outcome}`);
        return report;
      } catch (err) {
        metrics.reloads.inc({ outcome: 'refused' });
        logger.error({ door, err: (err as Error).message }, 'config reload refused: nothing changed');
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
    const { cfg, cameraIds } = this.deps;
    return this.oneAtATime(async () => {
      const parts = this.parts();
      const next = { ...cfg.model, bundle: path };
      const classNames = cameraIds.map((id) => parts.settings.camera(id).className);
      const loaded = await this.prepareModel(next, classNames, sha256);
      this.swapModel(parts, loaded, door);
      cfg.model = next;
      return modelRef(loaded);
    });
  }

  private oneAtATime<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private parts(): RunningParts {
    const parts = this.deps.running();
    if (!parts) throw new Error('the service is not running');
    return parts;
  }

  private async applyReload(): Promise<ReloadReport> {
    const parts = this.parts();
    const { pipeline, decisions, settings } = parts;
    const { cfg, cameraIds, loadConfig } = this.deps;
    if (!loadConfig) throw new Error('this service was started without a config file to reload');
    const next = loadConfig();
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
      ...cameraIds
        .filter((id) => !startingIds.has(id) && !plan.removed.includes(id))
        .map((id) => settings.camera(id).className),
      ...starting.map((c) => c.className),
    ];
    for (const cam of starting) decisions.checkCamera(cam);
    let loaded: LoadedModel | undefined;
    if (plan.model) loaded = await this.prepareModel(next.model, classNames);
    else for (const cam of starting) this.current!.stages.checkClassName(cam.className);

    // Then apply: the model, new cameras, changed ones, removed ones.
    if (loaded) {
      this.swapModel(parts, loaded, 'reload');
      cfg.model = next.model;
      report.model = modelRef(loaded);
    }
    for (const cam of plan.added) this.startCamera(parts, cam);
    for (const cam of plan.changed) {
      const release = pipeline.hold();
      try {
        await this.stopCamera(parts, cam.id, true);
        this.startCamera(parts, cam);
      } finally {
        release();
      }
    }
    for (const id of plan.removed) await this.stopCamera(parts, id, false);
    this.applied = next;
    this.deps.publishInfo();
    return report;
  }

  /** Loads a model beside the running one; a refusal is logged, counted and shown, then thrown. */
  private async prepareModel(
    model: Config['model'],
    classNames: readonly string[],
    expectSha256?: string,
  ): Promise<LoadedModel> {
    const { liveSettings, metrics, status, logger } = this.deps;
    try {
      return await loadModel(model, { expectSha256, classNames, warmUp: true, ...liveSettings, logger });
    } catch (err) {
      const error = (err as Error).message;
      metrics.modelLoads.inc({ outcome: 'refused' });
      status.setModelRefused({ bundle: model.bundle, at: new Date().toISOString(), error });
      logger.error({ bundle: model.bundle, err: error }, 'model bundle refused: the running one stays');
      throw err;
    }
  }

  /** Swaps a loaded model in between two batches; the old engine closes after its last batch. */
  private swapModel(parts: RunningParts, loaded: LoadedModel, door: string): void {
    const { pipeline, context, sparkplug } = parts;
    const { metrics, status, logger } = this.deps;
    const old = this.current!;
    const retired = pipeline.swapModel(modelStageSet(loaded), loaded.engine.info.maxBatch);
    this.current = loaded;
    context.model = loaded.provenance;
    reportModel(loaded, { status, metrics, logger });
    metrics.modelLoads.inc({ outcome: 'swapped' });
    sparkplug?.setModel(modelRef(loaded));
    for (const id of this.deps.cameraIds) this.deps.views.publish(id);
    this.deps.publishInfo();
    logger.info({ door, ...modelRef(loaded), before: modelRef(old) }, 'model bundle swapped');
    void retired
      .then(() => old.engine.close())
      .catch((err: unknown) => logger.warn({ err }, 'closing the previous engine failed'));
  }

  /** A camera started by a reload: every part learns of it, then its source opens. */
  private startCamera(parts: RunningParts, cam: CameraConfig): void {
    const { pipeline, decisions, settings, sparkplug, desk } = parts;
    const { cfg, cameraIds, status, operator } = this.deps;
    cfg.cameras = [...cfg.cameras.filter((c) => c.id !== cam.id), cam];
    if (!cameraIds.includes(cam.id)) cameraIds.push(cam.id);
    decisions.addCamera(cam);
    settings.add(cam);
    status.addCamera(cam);
    operator.addCamera(cam.id);
    sparkplug?.addCamera(cam);
    pipeline.addCamera(cam);
    if (operator.suspensions.isSuspended(cam.id)) pipeline.setSuspended(cam.id, true);
    desk.listen(cam);
    this.deps.views.initial({ [cam.id]: pipeline.cameraStates()[cam.id] });
  }

  /**
   * A camera stopped by a reload: its source closes, the frames it admitted are still inspected and
   * published, then the parts forget it (`restart`: it starts again at once with a changed config,
   * under the same id and Sparkplug aliases).
   */
  private async stopCamera(parts: RunningParts, cameraId: string, restart: boolean): Promise<void> {
    const { pipeline, decisions, settings, sparkplug, mqtt } = parts;
    const { cfg, cameraIds, status, operator, logger } = this.deps;
    await pipeline.removeCamera(cameraId);
    decisions.removeCamera(cameraId);
    settings.remove(cameraId);
    status.removeCamera(cameraId);
    operator.removeCamera(cameraId);
    cfg.cameras = cfg.cameras.filter((c) => c.id !== cameraId);
    if (restart) return;
    sparkplug?.removeCamera(cameraId);
    const i = cameraIds.indexOf(cameraId);
    if (i >= 0) cameraIds.splice(i, 1);
    await mqtt.forgetCamera(cameraId).catch((err: unknown) => logger.warn({ err }, 'retained state'));
  }
}
