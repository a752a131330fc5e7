// `adaclip-edge eval --bundle DIR --class NAME FOLDER`: scores a labelled folder (FOLDER/good/* are
// normal, every other sub-folder holds defects, as in MVTec AD's test split) and reports the image
// AUROC with and without HSF, plus the score range of the good parts to help choose a threshold.
import { readdirSync, statSync } from 'node:fs';
import { join, extname } from 'node:path';
import { loadBundle } from '../model/bundle.js';
import { createEngine } from '../engines/select.js';
import { createHsfRunner } from '../hsf/index.js';
import { modelSchema } from '../config/schema.js';
import { ModelStages } from '../service/model-stages.js';
import { auroc } from '../eval/auroc.js';
import { loadOpenCV } from '../util/opencv.js';
import { createLogger } from '../util/log.js';

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff']);

export async function evalCommand(folder: string, opts: { bundle: string; class: string }): Promise<number> {
  const logger = createLogger({ level: 'warn' });
  let subdirs: string[];
  try {
    subdirs = readdirSync(folder).filter((d) => statSync(join(folder, d)).isDirectory());
  } catch (err) {
    console.error(`eval: cannot read ${folder}: ${(err as Error).message}`);
    return 2;
  }
  if (!subdirs.includes('good') || subdirs.length < 2) {
    console.error(
      `eval: ${folder} needs a "good" sub-folder and at least one defect sub-folder (found: ${subdirs.join(', ') || 'none'})`,
    );
    return 2;
  }
  const items: { file: string; label: number }[] = [];
  for (const d of subdirs.sort()) {
    for (const f of readdirSync(join(folder, d)).sort()) {
      if (IMAGE_EXT.has(extname(f).toLowerCase()))
        items.push({ file: join(folder, d, f), label: d === 'good' ? 0 : 1 });
    }
  }
  const bundle = await loadBundle(opts.bundle);
  const engine = await createEngine(modelSchema.parse({ bundle: opts.bundle }), bundle, logger);
  const stages = new ModelStages(bundle, engine, createHsfRunner('auto', logger), () => opts.class);
  const cv = loadOpenCV();
  const scores: number[] = [];
  const scoresNoHsf: number[] = [];
  const labels: number[] = [];
  try {
    for (const item of items) {
      const img = cv.imread(item.file, cv.IMREAD_COLOR);
      if (img.empty) {
        console.error(`eval: skipping ${item.file}: not a readable image`);
        continue;
      }
      const [r] = await stages.scoreImages([img], opts.class);
      scores.push(r.score);
      scoresNoHsf.push(r.scoreWithoutHsf);
      labels.push(item.label);
    }
  } finally {
    await engine.close();
  }
  const good = scores.filter((_, i) => labels[i] === 0).sort((a, b) => a - b);
  const result = {
    bundle: bundle.dir,
    class: opts.class,
    untrained: bundle.untrained,
    images: labels.length,
    defective: labels.filter(Boolean).length,
    auroc: auroc(scores, labels),
    aurocWithoutHsf: auroc(scoresNoHsf, labels),
    goodScores: { min: good[0], median: good[Math.floor(good.length / 2)], max: good[good.length - 1] },
  };
  console.log(JSON.stringify(result));
  if (bundle.untrained)
    console.error('WARNING: untrained bundle (random weights): these numbers mean nothing');
  return 0;
}
