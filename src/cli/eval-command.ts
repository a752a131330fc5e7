// `adaclip-edge eval --bundle DIR --class NAME [--json] FOLDER`: the metrics the papers report on the
// test split of an MVTec AD layout (src/eval/evaluate.ts), as a table or one JSON document, plus a
// per-image CSV and a PNG of the worst mistakes in --out.
import { join } from 'node:path';
import { modelSchema } from '../config/schema.js';
import { evaluate, EvalInputError, type EvalReport } from '../eval/evaluate.js';
import { LayoutError } from '../eval/mvtec-layout.js';
import { demoModelLine } from '../model/demo-note.js';
import { createLogger } from '../util/log.js';
import { printProblems, parseFraction, timestampForPath } from './cli-input.js';

export interface EvalCommandOptions {
  bundle: string;
  class: string;
  json: boolean;
  out?: string;
  threshold?: string;
  saveMaps: boolean;
  worst: string;
  threads: string;
}

export async function evalCommand(folder: string, opts: EvalCommandOptions): Promise<number> {
  const logger = createLogger({ level: 'warn' });
  let threshold: number | undefined;
  let worst: number;
  try {
    if (opts.threshold !== undefined)
      threshold = parseFraction(opts.threshold, '--threshold', { closed: true });
    worst = Number(opts.worst);
    if (!Number.isInteger(worst) || worst < 0)
      throw new Error(`--worst: expected a whole number >= 0, got "${opts.worst}"`);
  } catch (err) {
    console.error(`eval: ${(err as Error).message}`);
    return 2;
  }
  const outDir =
    opts.out ?? join('var', 'eval', `${opts.class.replace(/[^A-Za-z0-9_-]+/g, '_')}-${timestampForPath()}`);
  let report: EvalReport;
  try {
    report = await evaluate({
      folder,
      className: opts.class,
      model: modelSchema.parse({ bundle: opts.bundle, engine: { threads: Number(opts.threads) || 0 } }),
      outDir,
      threshold,
      saveMaps: opts.saveMaps,
      worst,
      logger,
    });
  } catch (err) {
    if (err instanceof LayoutError || err instanceof EvalInputError) {
      printProblems('eval', `cannot evaluate ${folder}`, err.problems);
      return 2;
    }
    throw err;
  }
  if (opts.json) console.log(JSON.stringify(report));
  else console.log(formatReport(report));
  if (report.ignoredFiles.length)
    console.error(
      `eval: ignored ${report.ignoredFiles.length} file(s) that are not images, e.g. ${report.ignoredFiles[0]}`,
    );
  if (report.untrained)
    console.error('WARNING: untrained bundle (random weights): these numbers mean nothing');
  if (report.demoModel !== undefined)
    console.error(
      `NOTE: ${demoModelLine(report.demoModel)} (synthetic-trained): these numbers hold for that line, not for real parts`,
    );
  return 0;
}

function formatReport(r: EvalReport): string {
  const f = (x: number) => x.toFixed(4);
  return [
    `eval of "${r.class}" on ${r.folder}`,
    `  bundle ${r.bundle} (${r.provenance}${r.demoModel !== undefined ? `: ${r.demoModel}` : ''}), HSF ${r.hsf}`,
    `  ${r.images} images (${r.goodImages} good, ${r.defectiveImages} defective), maps ${r.mapSize} x ${r.mapSize}, ${r.regions} defect regions`,
    `  image  AUROC ${f(r.imageAuroc)}  AP ${f(r.imageAp)}  F1-max ${f(r.imageF1Max)}  (AUROC without HSF ${f(r.imageAurocWithoutHsf)})`,
    `  pixel  AUROC ${f(r.pixelAuroc)}  AUPRO ${f(r.pixelAupro)} (to FPR ${r.auproFprLimit})  F1-max ${f(r.pixelF1Max)}  AP ${f(r.pixelAp)}`,
    `  at image threshold ${f(r.threshold.image)} (${r.threshold.from}): ${r.threshold.falsePositives} false positives, ${r.threshold.falseNegatives} false negatives`,
    `  per-image CSV   ${r.files.csv}`,
    `  worst mistakes  ${r.files.grid}`,
    ...(r.files.maps ? [`  maps and masks  ${r.files.maps}`] : []),
    `  ${r.seconds.toFixed(1)} s`,
  ].join('\n');
}
