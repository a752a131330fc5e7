// Renders a labelled synthetic data set in the MVTec AD layout (what `adaclip-edge synth` writes):
//   train/good/NNNN.png                 good parts only (calibration, training on good images)
//   test/good/NNNN.png, test/<defect>/NNNN.png
//   ground_truth/<defect>/NNNN_mask.png  255 on the defect's pixels, from the renderer's own masks
//   parts.jsonl                         per image: every part's box and the defect's box, frame pixels
//   synth.json                          the options that made it
// Same options -> the same bytes (PNG encoding included).
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOpenCV } from '../../util/opencv.js';
import {
  planDatasetImage,
  sceneOptions,
  validateDatasetOptions,
  type DatasetOptions,
  type Split,
} from './dataset.js';
import { SyntheticRenderer, type PixelBox } from './render.js';
import type { DefectKind, PartKind } from './scene.js';

export const SYNTH_FORMAT = 'adaclip-edge-synth/1';

/** One line of parts.jsonl. */
export interface PartsRecord {
  /** Image path relative to the data set folder. */
  file: string;
  split: Split;
  /** 1 when defect pixels are in view (then `mask` is set). */
  label: 0 | 1;
  defect: DefectKind | 'good';
  mask?: string;
  width: number;
  height: number;
  /** The subject part's number on this seed's line. */
  subject: number;
  parts: {
    index: number;
    kind: PartKind;
    subject: boolean;
    box: PixelBox;
    defect?: { kind: DefectKind; box: PixelBox; areaPx: number };
  }[];
}

export interface WriteDatasetResult {
  images: number;
  train: number;
  testGood: number;
  defective: Record<string, number>;
}

export class DatasetInputError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'DatasetInputError';
  }
}

/** A defect smaller than this share of the frame is not drawn (its part counts as good): about 15
 * pixels once a frame is shrunk to 224 x 224 for the model. Below that the truth mask at the model's
 * size is empty or a few pixels (a dent that fell mostly off a screw's shaft), a label no model can
 * follow: 19 of 112 defective screws of one set had fewer than 20 mask pixels there. */
export const MIN_DEFECT_SHARE = 3e-4;

export function minDefectAreaPx(o: Pick<DatasetOptions, 'width' | 'height'>): number {
  return Math.ceil(MIN_DEFECT_SHARE * o.width * o.height);
}

export async function writeDataset(
  out: string,
  o: DatasetOptions,
  progress: (done: number, total: number) => void = () => undefined,
): Promise<WriteDatasetResult> {
  const problems = validateDatasetOptions(o);
  if (existsSync(out) && readdirSync(out).length > 0)
    problems.push(`${out}: exists and is not empty (synth writes into a new or empty folder)`);
  if (problems.length > 0) throw new DatasetInputError(problems);
  const cv = loadOpenCV();
  const renderers = {
    train: new SyntheticRenderer(sceneOptions(o, 'train')),
    test: new SyntheticRenderer(sceneOptions(o, 'test')),
  };
  const pad = String(Math.max(o.count, o.trainGood, 1) - 1).length;
  const made = new Set<string>();
  const dir = (rel: string) => {
    if (!made.has(rel)) mkdirSync(join(out, rel), { recursive: true });
    made.add(rel);
    return rel;
  };
  dir('train/good');
  dir('test/good');
  const lines: string[] = [];
  const result: WriteDatasetResult = { images: 0, train: 0, testGood: 0, defective: {} };
  const total = o.trainGood + o.count;
  const jobs: [Split, number][] = [
    ...Array.from({ length: o.trainGood }, (_, i): [Split, number] => ['train', i]),
    ...Array.from({ length: o.count }, (_, i): [Split, number] => ['test', i]),
  ];
  for (const [split, number] of jobs) {
    const renderer = renderers[split];
    const plan = planDatasetImage(o, split, number, renderer.beltPeriod);
    let frame = renderer.renderParts(plan.parts, plan.beltOffset, { boxes: true });
    let parts = frame.parts ?? [];
    let defect = parts.find((p) => p.index === plan.subject.index)?.defect;
    if (defect && defect.areaPx < minDefectAreaPx(o)) {
      // a sliver of a defect (it fell mostly off the part): drawn without it, the part is good
      const [subject, ...rest] = plan.parts;
      frame = renderer.renderParts([{ ...subject, defect: undefined }, ...rest], plan.beltOffset, {
        boxes: true,
      });
      parts = frame.parts ?? [];
      defect = undefined;
    }
    const name = String(number).padStart(pad, '0');
    const folder = split === 'train' ? 'train/good' : defect ? dir(`test/${defect.kind}`) : 'test/good';
    const file = `${folder}/${name}.png`;
    await cv.imwriteAsync(join(out, file), frame.image);
    let mask: string | undefined;
    if (defect && frame.truthMask) {
      mask = `${dir(`ground_truth/${defect.kind}`)}/${name}_mask.png`;
      await cv.imwriteAsync(join(out, mask), frame.truthMask);
    }
    const record: PartsRecord = {
      file,
      split,
      label: defect ? 1 : 0,
      defect: defect?.kind ?? 'good',
      ...(mask && { mask }),
      width: o.width,
      height: o.height,
      subject: plan.subject.index,
      parts: parts.map((p) => ({
        index: p.index,
        kind: p.kind,
        subject: p.index === plan.subject.index,
        box: p.box,
        ...(p.defect && { defect: p.defect }),
      })),
    };
    lines.push(JSON.stringify(record));
    result.images++;
    if (split === 'train') result.train++;
    else if (defect) result.defective[defect.kind] = (result.defective[defect.kind] ?? 0) + 1;
    else result.testGood++;
    progress(result.images, total);
  }
  writeFileSync(join(out, 'parts.jsonl'), lines.join('\n') + (lines.length ? '\n' : ''));
  const meta = {
    format: SYNTH_FORMAT,
    seed: o.seed,
    count: o.count,
    trainGood: o.trainGood,
    defectRate: o.defectRate,
    kinds: [...o.kinds],
    width: o.width,
    height: o.height,
    partScale: o.partScale,
    ...result,
  };
  writeFileSync(join(out, 'synth.json'), JSON.stringify(meta, null, 2) + '\n');
  return result;
}
