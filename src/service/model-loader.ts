// Loading a model: the bundle verified against its manifest (every file's size and sha256), the
// engine and HSF runner for it, and its pipeline stages. For a bundle loaded beside the running one
// (a reload, the load-bundle command) also the sha256 the requester expects and a warm-up batch, so
// that a bundle that cannot run is refused before any frame goes to it, and the old one keeps
// running. What is half-built when a step fails is closed again. At start and after every swap the
// model in use is reported (live status, metrics, log).
import type { ModelConfig } from '../config/schema.js';
import type { Engine } from '../engines/engine.js';
import { createEngine } from '../engines/select.js';
import type { ModelProvenance } from '../events/provenance.js';
import type { HsfRunner } from '../hsf/types.js';
import { loadBundle, type Bundle } from '../model/bundle.js';
import { demoModelLine, trainingSummary } from '../model/demo-note.js';
import type { Metrics } from '../metrics/prometheus.js';
import type { Logger } from '../util/log.js';
import type { LiveStatus } from './live-status.js';
import { ModelStages, hsfFor } from './model-stages.js';

export interface LoadedModel {
  bundle: Bundle;
  engine: Engine;
  hsf?: HsfRunner;
  stages: ModelStages;
  provenance: ModelProvenance;
}

/** Why a bundle was refused; the message names the bundle and the step. */
export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
}

export interface LoadModelOptions {
  /** The sha256 the requester expects (of model.onnx, as every event reports it). */
  expectSha256?: string;
  /** Class names the cameras prompt with: each must tokenise with the new vocabulary. */
  classNames: readonly string[];
  /** Run one batch through the new engine and the fusion before it is used. */
  warmUp: boolean;
  classNameOf: (cameraId: string) => string;
  pixelThresholdOf: (cameraId: string) => number;
  logger: Logger;
}

export async function loadModel(model: ModelConfig, o: LoadModelOptions): Promise<LoadedModel> {
  const step = async <T>(what: string, fn: () => Promise<T> | T): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw new ModelLoadError(`model bundle ${model.bundle}: ${what} failed: ${(err as Error).message}`);
    }
  };
  // 1. The manifest and the sha256 of every file (a bundle that does not match is never opened).
  const bundle = await step('verification', () => loadBundle(model.bundle));
  const sha256 = bundle.manifest.files[bundle.manifest.onnx.file].sha256;
  if (o.expectSha256 !== undefined && o.expectSha256 !== sha256)
    throw new ModelLoadError(
      `model bundle ${bundle.dir}: sha256 ${sha256} is not the expected ${o.expectSha256}: refused`,
    );
  if (bundle.untrained) {
    o.logger.warn(
      { bundle: bundle.dir },
      '*** UNTRAINED MODEL (untrained-test, random weights): scores and events mean NOTHING; for demos and tests only ***',
    );
  }
  if (bundle.demoNote !== undefined) {
    const training = bundle.manifest.provenance.training;
    o.logger.warn(
      {
        bundle: bundle.dir,
        provenance: 'synthetic-trained',
        ...(training && { training: trainingSummary(training) }),
      },
      `*** ${demoModelLine(bundle.demoNote)} (synthetic-trained): for demos and tests only ***`,
    );
  }
  // 2. The engine beside the running one, then everything that can still fail.
  const engine = await step('engine creation', () => createEngine(model, bundle, o.logger));
  try {
    const hsf = hsfFor(model, engine, o.logger);
    const stages = new ModelStages(
      bundle,
      engine,
      hsf,
      o.classNameOf,
      o.pixelThresholdOf,
      model.classNameCacheSize,
    );
    for (const name of o.classNames) await step(`class name "${name}"`, () => stages.checkClassName(name));
    if (o.warmUp) {
      const score = await step('warm-up', () => stages.warmUp(o.classNames[0] ?? 'object'));
      o.logger.info({ bundle: bundle.dir, score }, 'new model warmed up');
    }
    return { bundle, engine, hsf, stages, provenance: stages.provenance };
  } catch (err) {
    await engine.close().catch(() => undefined);
    throw err;
  }
}

/** The model in use, as a reload or load-bundle answers it (and the device's info document). */
export interface ModelReport {
  bundle: string;
  sha256: string;
  version: string;
}

export function modelRef(m: LoadedModel): ModelReport {
  return { bundle: m.bundle.dir, sha256: m.provenance.bundleSha256, version: m.provenance.version };
}

/** The stages of a model, as the pipeline runs and swaps them. */
export function modelStageSet(m: LoadedModel) {
  return { preprocess: m.stages.preprocess, engine: m.stages.engineRun, hsf: m.stages.fuse };
}

/** The model in use, shown in the live status, the metrics and the log (at start and after a swap). */
export function reportModel(
  { bundle, engine, hsf, provenance }: LoadedModel,
  to: { status: LiveStatus; metrics: Metrics; logger: Logger },
): void {
  const { bundleSha256: sha256, version } = provenance;
  to.status.setModel({
    bundle: bundle.dir,
    provenance: bundle.manifest.provenance.kind,
    untrained: bundle.untrained,
    ...(bundle.demoNote !== undefined && { demoNote: bundle.demoNote }),
    backend: `${engine.info.backend} (${engine.info.device})`,
    hsf: hsf ? hsf.kind : 'off',
    sha256,
    version,
  });
  to.metrics.setModel(sha256, version);
  const { backend, device, maxBatch } = engine.info;
  to.logger.info({ backend, device, maxBatch, hsf: hsf?.kind ?? 'off', sha256, version }, 'model ready');
}
