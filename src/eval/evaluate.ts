// Evaluation as the papers report it, on the test split of an MVTec AD layout: image AUROC, AP and
// F1-max on the image scores, pixel AUROC, AUPRO (FPR limit 0.3) and F1-max on the smoothed maps
// against the ground-truth masks; plus a per-image CSV and a PNG of the worst mistakes. Any bad input
// (a missing or unreadable mask, an unreadable image, a mask of another size) stops it with every
// problem listed: metrics on part of a test set would mislead.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { ModelConfig } from '../config/schema.js';
import type { MapSource } from '../geometry/map-to-frame.js';
import type { Logger } from '../util/log.js';
import { writeNpy } from '../util/npy.js';
import { loadOpenCV } from '../util/opencv.js';
import { maskRegions, readMapMask, type MapMask } from './ground-truth.js';
import { imageMetrics } from './image-metrics.js';
import { readTestSet } from './mvtec-layout.js';
import { perImageCsv, type PerImageRow } from './per-image-csv.js';
import { PixelMetricsAccumulator } from './pixel-metrics.js';
import { Progress } from './progress.js';
import { AUPRO_FPR_LIMIT } from './rank-metrics.js';
import { openScorer, scoreFiles } from './scorer.js';
import { renderWorstGrid, type GridCase } from './worst-grid.js';

export interface EvalOptions {
  folder: string;
  className: string;
  model: ModelConfig;
  /** Where the CSV, the grid and (with saveMaps) the maps go. */
  outDir: string;
  /** Image threshold for the CSV's verdicts and the grid; default: the F1-max threshold. */
  threshold?: number;
  /** Also write each smoothed map (.npy) and mask (.png) at the map's size. */
  saveMaps?: boolean;
  /** Rows of the grid per kind (false positives, false negatives). */
  worst?: number;
  logger: Logger;
  /** Progress lines (default: stderr). */
  progress?: (line: string) => void;
}

export interface EvalReport {
  imageAuroc: number;
  imageAp: number;
  imageF1Max: number;
  pixelAuroc: number;
  pixelAupro: number;
  pixelF1Max: number;
  pixelAp: number;
  imageAurocWithoutHsf: number;
  images: number;
  goodImages: number;
  defectiveImages: number;
  pixels: number;
  defectPixels: number;
  regions: number;
  auproFprLimit: number;
  mapSize: number;
  threshold: { image: number; from: 'f1-max' | 'given'; falsePositives: number; falseNegatives: number };
  bundle: string;
  provenance: string;
  untrained: boolean;
  /** A synthetic-trained bundle's note ("trained on the synthetic line only, ..."). */
  demoModel?: string;
  class: string;
  hsf: string;
  folder: string;
  files: { csv: string; grid: string; maps?: string };
  ignoredFiles: string[];
  seconds: number;
}

export class EvalInputError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'EvalInputError';
  }
}

interface Candidate extends GridCase {
  index: number;
}

export async function evaluate(o: EvalOptions): Promise<EvalReport> {
  const t0 = performance.now();
  const set = readTestSet(o.folder);
  const files = set.images.map((im) => im.file);
  const scorer = await openScorer(o.model, o.logger);
  const S = scorer.mapSize;
  const cv = loadOpenCV();
  const problems: string[] = [];
  const outDir = resolve(o.outDir);
  const mapsDir = o.saveMaps ? join(outDir, 'maps') : undefined;
  mkdirSync(mapsDir ?? outDir, { recursive: true });
  const rows: PerImageRow[] = [];
  const worst = o.worst ?? 4;
  const good: Candidate[] = [];
  const bad: Candidate[] = [];
  let pixels: PixelMetricsAccumulator | undefined;
  try {
    // The masks first: their problems show before any scoring, and their pixel counts size the arrays.
    const masks: (MapMask | undefined)[] = set.images.map((im) => {
      if (!im.mask) return undefined;
      try {
        return readMapMask(im.mask, S);
      } catch (err) {
        problems.push((err as Error).message);
        return undefined;
      }
    });
    if (problems.length) throw new EvalInputError(problems);
    const defective = masks.reduce((n, m) => n + (m?.defectPixels ?? 0), 0);
    if (defective === 0)
      throw new EvalInputError([
        `${set.root}: the masks mark no defective pixel (at the map size ${S} x ${S})`,
      ]);
    pixels = new PixelMetricsAccumulator({ normal: files.length * S * S - defective, defective });
    const acc = pixels;
    const progress = new Progress('eval', files.length, o.progress);
    await scoreFiles(scorer, files, {
      className: o.className,
      onError: (_, _file, message) => {
        problems.push(message);
        progress.add();
      },
      onImage: ({ index, file, image, result, smoothed }) => {
        progress.add();
        const im = set.images[index];
        const mask = masks[index];
        if (mask && (mask.width !== image.cols || mask.height !== image.rows)) {
          problems.push(
            `${im.mask}: the mask is ${mask.width}x${mask.height} but its image is ${image.cols}x${image.rows}`,
          );
          return;
        }
        if (problems.length) return; // the run fails: spare the work
        const gt = mask ? maskRegions(mask.data, S) : undefined;
        acc.add(smoothed, gt);
        let mapMax = -Infinity;
        for (let i = 0; i < smoothed.length; i++) if (smoothed[i] > mapMax) mapMax = smoothed[i];
        const row: PerImageRow = {
          file: relative(set.root, file),
          defect: im.defect,
          label: im.label,
          score: result.score,
          scoreWithoutHsf: result.scoreWithoutHsf,
          mapMax,
          defectPixels: mask?.defectPixels ?? 0,
          regions: gt?.count ?? 0,
        };
        if (mapsDir) {
          row.map = join(mapsDir, `${String(index).padStart(5, '0')}.npy`);
          row.mask = join(mapsDir, `${String(index).padStart(5, '0')}_mask.png`);
          writeNpy(row.map, smoothed, [S, S]);
          const bytes = Buffer.alloc(S * S);
          if (mask) for (let i = 0; i < bytes.length; i++) bytes[i] = mask.data[i] ? 255 : 0;
          cv.imwrite(row.mask, new cv.Mat(bytes, S, S, cv.CV_8UC1));
        }
        rows.push(row);
        const c: Candidate = {
          index,
          kind: im.label ? 'FN' : 'FP',
          file,
          name: row.file,
          score: result.score,
          map: smoothed,
          source: result.source as MapSource,
          mask: mask?.data,
        };
        // the highest-scoring good images and the lowest-scoring defective ones: the worst mistakes
        // at any threshold are among them
        keepWorst(
          im.label ? bad : good,
          c,
          worst,
          im.label ? (a, b) => a.score - b.score : (a, b) => b.score - a.score,
        );
      },
    });
  } finally {
    await scorer.close();
  }
  if (problems.length) throw new EvalInputError(problems);

  rows.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const labels = rows.map((r) => r.label);
  const im = imageMetrics(
    rows.map((r) => r.score),
    labels,
  );
  const imNoHsf = imageMetrics(
    rows.map((r) => r.scoreWithoutHsf),
    labels,
  );
  const px = pixels!.compute();
  const threshold = o.threshold ?? im.f1Threshold;
  const from = o.threshold === undefined ? 'f1-max' : 'given';
  const csv = join(outDir, 'per-image.csv');
  writeFileSync(csv, perImageCsv(rows, threshold));
  const fps = good.filter((c) => c.score >= threshold);
  const fns = bad.filter((c) => c.score < threshold);
  const grid = join(outDir, 'worst.png');
  cv.imwrite(grid, renderWorstGrid([...fps, ...fns], S, threshold, from === 'f1-max' ? 'F1-max' : 'given'));
  const goodImages = labels.filter((l) => l === 0).length;
  return {
    imageAuroc: im.auroc,
    imageAp: im.ap,
    imageF1Max: im.f1Max,
    pixelAuroc: px.auroc,
    pixelAupro: px.aupro,
    pixelF1Max: px.f1Max,
    pixelAp: px.ap,
    imageAurocWithoutHsf: imNoHsf.auroc,
    images: rows.length,
    goodImages,
    defectiveImages: rows.length - goodImages,
    pixels: rows.length * S * S,
    defectPixels: pixels!.expected.defective,
    regions: pixels!.regions,
    auproFprLimit: AUPRO_FPR_LIMIT,
    mapSize: S,
    threshold: {
      image: threshold,
      from,
      falsePositives: rows.filter((r) => !r.label && r.score >= threshold).length,
      falseNegatives: rows.filter((r) => r.label && r.score < threshold).length,
    },
    bundle: scorer.bundle.dir,
    provenance: scorer.bundle.manifest.provenance.kind,
    untrained: scorer.bundle.untrained,
    ...(scorer.bundle.demoNote !== undefined && { demoModel: scorer.bundle.demoNote }),
    class: o.className,
    hsf: scorer.hsf ? scorer.hsf.kind : 'off',
    folder: set.root,
    files: { csv, grid, ...(mapsDir && { maps: mapsDir }) },
    ignoredFiles: set.ignored,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Keeps the `n` first of `list` in `order` after adding `c`. */
function keepWorst<T>(list: T[], c: T, n: number, order: (a: T, b: T) => number): void {
  list.push(c);
  list.sort(order);
  if (list.length > n) list.length = n;
}
