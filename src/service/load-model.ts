// Step 1 of the start: the model bundle (refused here when it does not match its manifest, before
// anything runs), its engine and HSF runner, reported to the log and the live status.
import type { Config } from '../config/schema.js';
import type { Engine } from '../engines/engine.js';
import { createEngine } from '../engines/select.js';
import type { HsfRunner } from '../hsf/types.js';
import { loadBundle, type Bundle } from '../model/bundle.js';
import type { Logger } from '../util/log.js';
import type { LiveStatus } from './live-status.js';
import { hsfFor } from './model-stages.js';

export interface LoadedModel {
  bundle: Bundle;
  engine: Engine;
  hsf: HsfRunner | undefined;
}

export async function loadModel(cfg: Config, status: LiveStatus, logger: Logger): Promise<LoadedModel> {
  const bundle = await loadBundle(cfg.model.bundle);
  if (bundle.untrained) {
    logger.warn(
      { bundle: bundle.dir },
      '*** UNTRAINED MODEL (untrained-test, random weights): scores and events mean NOTHING; for demos and tests only ***',
    );
  }
  const engine = await createEngine(cfg.model, bundle, logger);
  const hsf = hsfFor(cfg.model, engine, logger);
  status.setModel({
    bundle: bundle.dir,
    provenance: bundle.manifest.provenance.kind,
    untrained: bundle.untrained,
    backend: `${engine.info.backend} (${engine.info.device})`,
    hsf: hsf ? hsf.kind : 'off',
  });
  const { backend, device, maxBatch } = engine.info;
  logger.info({ backend, device, maxBatch, hsf: hsf?.kind ?? 'off' }, 'model ready');
  return { bundle, engine, hsf };
}
