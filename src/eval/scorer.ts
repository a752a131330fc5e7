// Scores image files outside the service with the service's own parts: the bundle verified against
// its manifest, the engine and the HSF runner chosen from the same model config, and ModelStages
// (preprocessing, engine, HSF fusion, gaussian smoothing). What eval and calibrate measure is what
// the line sees.
import type { Mat } from '@u4/opencv4nodejs';
import type { ModelConfig } from '../config/schema.js';
import type { Engine } from '../engines/engine.js';
import { createEngine } from '../engines/select.js';
import type { HsfRunner } from '../hsf/types.js';
import { loadBundle, type Bundle } from '../model/bundle.js';
import type { FrameView } from '../preprocess/preprocess.js';
import { ModelStages, hsfFor, type ModelResult } from '../service/model-stages.js';
import type { Logger } from '../util/log.js';
import { readImageFile } from '../util/opencv.js';

export interface Scorer {
  bundle: Bundle;
  engine: Engine;
  hsf?: HsfRunner;
  stages: ModelStages;
  /** Side of the square anomaly map. */
  mapSize: number;
  close(): Promise<void>;
}

export async function openScorer(model: ModelConfig, logger: Logger): Promise<Scorer> {
  const bundle = await loadBundle(model.bundle);
  const engine = await createEngine(model, bundle, logger);
  try {
    const hsf = hsfFor(model, engine, logger);
    const stages = new ModelStages(bundle, engine, hsf, () => '');
    return { bundle, engine, hsf, stages, mapSize: bundle.manifest.imageSize, close: () => engine.close() };
  } catch (err) {
    await engine.close();
    throw err;
  }
}

export interface ScoredImage {
  /** Position in the list of files. */
  index: number;
  file: string;
  image: Mat;
  result: ModelResult;
  /** The whole map smoothed (gaussian sigma 4): what thresholds.pixel applies to. */
  smoothed: Float32Array;
}

export interface ScoreFilesOptions {
  className: string;
  /** A camera's ROI and rotation, applied as the service applies them. */
  view?: FrameView;
  onImage(s: ScoredImage): void;
  /** An image that could not be read or preprocessed (`message` names it); the others go on. */
  onError(index: number, file: string, message: string): void;
}

/** Scores `files` in batches of the engine's maximum batch, in order. */
export async function scoreFiles(scorer: Scorer, files: string[], o: ScoreFilesOptions): Promise<void> {
  const batch = Math.max(1, scorer.engine.info.maxBatch);
  for (let start = 0; start < files.length; start += batch) {
    const mats: { index: number; image: Mat }[] = [];
    for (let index = start; index < Math.min(files.length, start + batch); index++) {
      const file = files[index];
      try {
        mats.push({ index, image: readImageFile(file) });
      } catch (err) {
        o.onError(index, file, (err as Error).message);
      }
    }
    if (mats.length === 0) continue;
    let results: ModelResult[] | undefined;
    try {
      results = await scorer.stages.scoreImages(
        mats.map((m) => m.image),
        o.className,
        o.view,
      );
    } catch {
      // one image the batch cannot take (an ROI outside it, say) must not cost the others
    }
    for (let k = 0; k < mats.length; k++) {
      const { index, image } = mats[k];
      let result = results?.[k];
      if (!result) {
        try {
          [result] = await scorer.stages.scoreImages([image], o.className, o.view);
        } catch (err) {
          o.onError(index, files[index], `${files[index]}: ${(err as Error).message}`);
          continue;
        }
      }
      o.onImage({ index, file: files[index], image, result, smoothed: scorer.stages.smoothed(result) });
    }
  }
}
