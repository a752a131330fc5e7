// What each image of a labelled synthetic data set shows (`adaclip-edge synth`): one subject part per
// image, somewhere near the middle of a frame of the line, with its neighbours on the belt drawn
// good, so that an image is defective exactly when its subject's defect is in view. Pure arithmetic
// like scene.ts; write-dataset.ts renders and writes it.
import { hashInts, mulberry32 } from '../../util/prng.js';
import {
  PART_KINDS,
  partProperties,
  sceneGeometry,
  type PartKind,
  type PartPlan,
  type SceneOptions,
} from './scene.js';

export interface DatasetOptions {
  width: number;
  height: number;
  seed: number;
  /** Images in test/ (good and defective). */
  count: number;
  /** Good images in train/good. */
  trainGood: number;
  /** Share of test images whose subject part carries a defect. */
  defectRate: number;
  kinds: readonly PartKind[];
  /** Part size as a share of the frame's shorter side (the camera's zoom). */
  partScale: number;
}

export type Split = 'train' | 'test';

export interface DatasetImagePlan {
  split: Split;
  /** Number within its split: the file name. */
  number: number;
  /** The part the image is about (its index on the line of this seed). */
  subject: PartPlan;
  /** Subject first, then its neighbours in view (never defective). */
  parts: PartPlan[];
  /** Belt texture offset, px. */
  beltOffset: number;
}

/** Train parts are numbered after every possible test part, so no part is in both splits. */
const TRAIN_PART_BASE = 1 << 24;
/** How far the subject may sit from the frame centre, as a share of the width (either side). */
const JITTER = 0.15;

export function validateDatasetOptions(o: DatasetOptions): string[] {
  const problems: string[] = [];
  const whole = (v: number, min: number, max: number) => Number.isInteger(v) && v >= min && v <= max;
  if (!whole(o.width, 64, 8192) || !whole(o.height, 64, 8192))
    problems.push(`size ${o.width}x${o.height}: width and height must be whole numbers from 64 to 8192`);
  if (!whole(o.count, 0, TRAIN_PART_BASE - 1))
    problems.push(`count ${o.count}: a whole number >= 0 expected`);
  if (!whole(o.trainGood, 0, TRAIN_PART_BASE - 1))
    problems.push(`train-good ${o.trainGood}: a whole number >= 0 expected`);
  if (o.count + o.trainGood === 0) problems.push('nothing to write: count and train-good are both 0');
  if (!(o.defectRate >= 0 && o.defectRate <= 1))
    problems.push(`defect rate ${o.defectRate}: must be in [0, 1]`);
  if (!Number.isInteger(o.seed)) problems.push(`seed ${o.seed}: a whole number expected`);
  if (!(o.partScale >= 0.1 && o.partScale <= 0.6))
    problems.push(`part scale ${o.partScale}: must be from 0.1 to 0.6 (share of the frame's shorter side)`);
  if (o.kinds.length === 0) problems.push('kinds: at least one part kind');
  for (const k of o.kinds)
    if (!PART_KINDS.includes(k)) problems.push(`kind "${k}": not one of ${PART_KINDS.join(', ')}`);
  return problems;
}

export function sceneOptions(o: DatasetOptions, split: Split): SceneOptions {
  return {
    width: o.width,
    height: o.height,
    seed: o.seed,
    defectRate: split === 'test' ? o.defectRate : 0,
    kinds: o.kinds,
    partScale: o.partScale,
  };
}

/** Image `number` of a split: deterministic in (options, split, number). */
export function planDatasetImage(
  o: DatasetOptions,
  split: Split,
  number: number,
  period: number,
): DatasetImagePlan {
  const scene = sceneOptions(o, split);
  const g = sceneGeometry(scene);
  const subjectIndex = split === 'test' ? number : TRAIN_PART_BASE + number;
  const rnd = mulberry32(hashInts(o.seed, split === 'test' ? 1 : 2, number, 0xda7a));
  const cx = o.width / 2 + (rnd() - 0.5) * 2 * JITTER * o.width;
  const beltOffset = Math.floor(rnd() * period);
  const place = (index: number, x: number, sceneFor: SceneOptions): PartPlan => {
    const { dy, ...props } = partProperties(sceneFor, index);
    return { ...props, cx: x, cy: o.height / 2 + dy };
  };
  const subject = place(subjectIndex, cx, scene);
  const parts = [subject];
  const good = { ...scene, defectRate: 0 };
  for (const k of [-2, -1, 1, 2]) {
    const x = cx + k * g.pitch;
    if (Math.abs(x - o.width / 2) >= o.width / 2 + g.partSize) continue;
    // neighbours get part numbers of their own (negative: never a subject), drawn without defects
    parts.push(place(-(subjectIndex * 4 + (k < 0 ? k + 3 : k + 2)) - 1, x, good));
  }
  return { split, number, subject, parts, beltOffset };
}
