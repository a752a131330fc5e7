// `adaclip-edge infer` (DESIGN.md contract): score image files or preprocessed float32 .npy tensors
// [3,S,S] with a bundle; for each input write the map before and after smoothing as .npy (and a
// heatmap overlay PNG for images) and print one JSON line. One bad input gives an error line and the
// others go on; the exit code is non-zero when any input failed.
import { mkdirSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import type { Mat } from '@u4/opencv4nodejs';
import { OnnxRuntimeEngine } from '../engines/onnxruntime.js';
import { createHsfRunner } from '../hsf/index.js';
import { loadBundle, type Bundle } from '../model/bundle.js';
import { demoModelLine } from '../model/demo-note.js';
import { PromptTokenCache } from '../model/prompts.js';
import { gaussianFilter } from '../postprocess/gaussian.js';
import { scoreBatch } from '../postprocess/score.js';
import { Preprocessor } from '../preprocess/preprocess.js';
import type { Logger } from '../util/log.js';
import { readNpy, writeNpy } from '../util/npy.js';
import { loadOpenCV, readImageFile } from '../util/opencv.js';

export interface InferOptions {
  bundle: string;
  className: string;
  outDir: string;
  /** Only JSON lines on stdout; otherwise a readable line per input. */
  json: boolean;
  inputs: string[];
  /** onnxruntime intra-op threads (0 = its default). */
  threads?: number;
  logger: Logger;
  /** Where result lines go (default: process.stdout). */
  write?: (line: string) => void;
}

export interface InferLine {
  input: string;
  class: string;
  score: number;
  scoreWithoutHsf: number;
  map: string;
  mapSmoothed: string;
  overlay?: string;
  imageSize: number;
  untrained?: true;
  /** A synthetic-trained bundle's note ("trained on the synthetic line only, ..."). */
  demoModel?: string;
}

interface LoadedInput {
  input: string;
  tensor: Float32Array;
  /** BGR image resized to S x S, for the overlay (image inputs only). */
  display?: Mat;
}

const NPY = '.npy';

function loadNpyInput(path: string, S: number): Float32Array {
  const arr = readNpy(path);
  const want = [3, S, S];
  if (arr.dtype !== '<f4' || arr.shape.length !== 3 || arr.shape.some((d, i) => d !== want[i])) {
    throw new Error(
      `${path}: ${arr.dtype === '<f4' ? 'float32' : arr.dtype} [${arr.shape.join(',')}], but this bundle needs float32 [${want.join(',')}]`,
    );
  }
  return arr.data as Float32Array;
}

function loadImageInput(path: string, pre: Preprocessor): LoadedInput {
  const cv = loadOpenCV();
  const mat = readImageFile(path);
  const tensor = pre.frame(mat).data;
  const display = mat.resize(pre.size, pre.size, 0, 0, cv.INTER_AREA);
  return { input: path, tensor, display };
}

/** Jet colour map of the smoothed map blended half-and-half over the resized image. */
function writeOverlay(path: string, display: Mat, smoothed: Float32Array, S: number): void {
  const cv = loadOpenCV();
  const bytes = new Uint8Array(S * S);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.round(Math.min(1, Math.max(0, smoothed[i])) * 255);
  const grey = new cv.Mat(Buffer.from(bytes.buffer), S, S, cv.CV_8UC1);
  const heat = cv.applyColorMap(grey, cv.COLORMAP_JET);
  cv.imwrite(path, display.addWeighted(0.5, heat, 0.5, 0));
}

/** Output file stems: the input's base name, made unique when two inputs share one. */
function stems(inputs: string[]): string[] {
  const seen = new Map<string, number>();
  return inputs.map((p) => {
    const stem = basename(p, extname(p));
    const n = seen.get(stem) ?? 0;
    seen.set(stem, n + 1);
    return n === 0 ? stem : `${stem}-${n}`;
  });
}

export async function runInfer(opts: InferOptions): Promise<number> {
  const write = opts.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const { logger } = opts;
  const fail = (input: string, err: unknown) => {
    const error = err instanceof Error ? err.message : String(err);
    logger.error({ input, err: error }, 'infer: input failed');
    write(opts.json ? JSON.stringify({ input, class: opts.className, error }) : `${input}: ERROR ${error}`);
  };
  if (opts.inputs.length === 0) {
    logger.error('infer: no inputs given');
    return 2;
  }
  let bundle: Bundle;
  let engine: OnnxRuntimeEngine;
  let prompts: PromptTokenCache;
  try {
    bundle = await loadBundle(opts.bundle);
    prompts = new PromptTokenCache(bundle.tokenizer, bundle.manifest.prompts);
    prompts.get(opts.className); // a class name the tokenizer refuses fails before any work
    engine = await OnnxRuntimeEngine.create(bundle, { threads: opts.threads ?? 0, logger });
  } catch (err) {
    for (const input of opts.inputs) fail(input, err);
    return 2;
  }
  if (bundle.untrained) {
    const msg =
      `WARNING: bundle ${bundle.dir} is UNTRAINED (provenance untrained-test, random weights): ` +
      'its scores and maps mean NOTHING. Use a bundle exported from a real AdaCLIP checkpoint.';
    process.stderr.write(`\n*** ${msg} ***\n\n`);
    logger.warn({ bundle: bundle.dir, provenance: 'untrained-test' }, msg);
  }
  if (bundle.demoNote !== undefined) {
    const msg = `NOTE: bundle ${bundle.dir}: ${demoModelLine(bundle.demoNote)} (provenance synthetic-trained)`;
    process.stderr.write(`${msg}\n`);
    logger.warn({ bundle: bundle.dir, provenance: 'synthetic-trained' }, msg);
  }
  const S = bundle.manifest.imageSize;
  const pre = new Preprocessor({
    size: S,
    mean: bundle.manifest.normalize.mean,
    std: bundle.manifest.normalize.std,
  });
  const hsf = createHsfRunner('cpu', logger);
  const outDir = resolve(opts.outDir);
  mkdirSync(outDir, { recursive: true });
  const names = stems(opts.inputs);
  let failed = 0;
  try {
    for (let i = 0; i < opts.inputs.length; i++) {
      const input = opts.inputs[i];
      try {
        const loaded: LoadedInput =
          extname(input).toLowerCase() === NPY
            ? { input, tensor: loadNpyInput(input, S) }
            : loadImageInput(input, pre);
        const tokens = prompts.get(opts.className);
        const out = await engine.run({
          images: loaded.tensor,
          batch: 1,
          tokens: tokens.tokens,
          sentences: tokens.sentences,
          context: tokens.context,
        });
        const scores = await scoreBatch(out, hsf, bundle.manifest.hsf);
        const map = out.anomalyMap;
        const smoothed = gaussianFilter(map, S, S);
        const line: InferLine = {
          input,
          class: opts.className,
          score: scores.score[0],
          scoreWithoutHsf: scores.scoreWithoutHsf[0],
          map: join(outDir, `${names[i]}.map.npy`),
          mapSmoothed: join(outDir, `${names[i]}.map_smoothed.npy`),
          imageSize: S,
        };
        writeNpy(line.map, map, [S, S]);
        writeNpy(line.mapSmoothed, smoothed, [S, S]);
        if (loaded.display) {
          line.overlay = join(outDir, `${names[i]}.overlay.png`);
          writeOverlay(line.overlay, loaded.display, smoothed, S);
        }
        if (bundle.untrained) line.untrained = true;
        if (bundle.demoNote !== undefined) line.demoModel = bundle.demoNote;
        write(
          opts.json
            ? JSON.stringify(line)
            : `${input}: score ${line.score.toFixed(4)} (without HSF ${line.scoreWithoutHsf.toFixed(4)})` +
                `${bundle.untrained ? ' [UNTRAINED MODEL: meaningless]' : ''}` +
                `${bundle.demoNote !== undefined ? ' [DEMO MODEL: synthetic line only]' : ''} map ${line.map}` +
                (line.overlay ? ` overlay ${line.overlay}` : ''),
        );
      } catch (err) {
        failed++;
        fail(input, err);
      }
    }
  } finally {
    await engine.close();
  }
  return failed > 0 ? 1 : 0;
}
