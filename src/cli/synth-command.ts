// `adaclip-edge synth --out DIR --count N --seed S ...`: a labelled data set of the synthetic line in
// the MVTec AD layout (src/sources/synthetic/write-dataset.ts), for training, calibration and eval.
import { PART_KINDS, type PartKind } from '../sources/synthetic/scene.js';
import { DatasetInputError, writeDataset } from '../sources/synthetic/write-dataset.js';
import { parseFraction, printProblems } from './cli-input.js';

export interface SynthCommandOptions {
  out: string;
  count: string;
  trainGood?: string;
  seed: string;
  defectRate: string;
  kinds: string;
  size: string;
  partScale: string;
}

function wholeNumber(text: string, option: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isInteger(v) || v < 0)
    throw new Error(`${option}: expected a whole number >= 0, got "${text}"`);
  return v;
}

export function parseSize(text: string): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/i.exec(text.trim());
  if (!m) throw new Error(`--size: expected WIDTHxHEIGHT, e.g. 640x480, got "${text}"`);
  return { width: Number(m[1]), height: Number(m[2]) };
}

export function parseKinds(text: string): PartKind[] {
  const kinds = text
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
  const unknown = kinds.filter((k) => !(PART_KINDS as readonly string[]).includes(k));
  if (kinds.length === 0 || unknown.length > 0)
    throw new Error(
      `--kinds: expected a comma-separated list of ${PART_KINDS.join(', ')}, got "${text}"` +
        (unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''),
    );
  return [...new Set(kinds)] as PartKind[];
}

export async function synthCommand(o: SynthCommandOptions): Promise<number> {
  let opts;
  try {
    const count = wholeNumber(o.count, '--count');
    opts = {
      ...parseSize(o.size),
      seed: Number.isInteger(Number(o.seed)) && o.seed.trim() !== '' ? Number(o.seed) : NaN,
      count,
      trainGood: o.trainGood === undefined ? count : wholeNumber(o.trainGood, '--train-good'),
      defectRate: parseFraction(o.defectRate, '--defect-rate', { closed: true }),
      kinds: parseKinds(o.kinds),
      partScale: Number(o.partScale),
    };
    if (Number.isNaN(opts.seed)) throw new Error(`--seed: expected a whole number, got "${o.seed}"`);
  } catch (err) {
    console.error(`synth: ${(err as Error).message}`);
    return 2;
  }
  const t0 = performance.now();
  let last = 0;
  try {
    const r = await writeDataset(o.out, opts, (done, total) => {
      const now = performance.now();
      if (done === total || now - last > 2000) {
        last = now;
        process.stderr.write(`synth: ${done}/${total} images\n`);
      }
    });
    const defects = Object.entries(r.defective)
      .sort()
      .map(([k, n]) => `${n} ${k}`)
      .join(', ');
    console.log(
      `synth: wrote ${r.images} images to ${o.out} in ${((performance.now() - t0) / 1000).toFixed(1)} s: ` +
        `train/good ${r.train}, test/good ${r.testGood}, defective ${defects || 'none'}`,
    );
    return 0;
  } catch (err) {
    if (err instanceof DatasetInputError) {
      printProblems('synth', `cannot write ${o.out}`, err.problems);
      return 2;
    }
    throw err;
  }
}
