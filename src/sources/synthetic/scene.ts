// What the synthetic production line shows in frame i: which parts, where, with which defect.
// Pure arithmetic, no OpenCV: the renderer draws what this plans, and tests check the plan.
import { hashInts, mulberry32 } from '../../util/prng.js';

export const PART_KINDS = ['nut', 'screw', 'pcb'] as const;
export type PartKind = (typeof PART_KINDS)[number];
export const DEFECT_KINDS = ['scratch', 'dent', 'missing'] as const;
export type DefectKind = (typeof DEFECT_KINDS)[number];

export interface SceneOptions {
  width: number;
  height: number;
  /** Fraction of parts that carry a defect, 0..1. */
  defectRate: number;
  seed: number;
  /** Part kinds on the line (default: all of PART_KINDS); each part draws one uniformly. */
  kinds?: readonly PartKind[];
  /** Nominal part size as a share of the frame's shorter side (default 0.32): the camera's zoom. */
  partScale?: number;
}

export const DEFAULT_PART_SCALE = 0.32;

export interface Defect {
  kind: DefectKind;
  /** Position relative to the part centre, in units of the part size (-0.5..0.5). */
  u: number;
  v: number;
  /** Second point (scratch end) or size factor (dent, missing chunk), same units. */
  u2: number;
  v2: number;
  /** scratch: light (true) or dark line. */
  light: boolean;
}

export interface PartPlan {
  index: number;
  kind: PartKind;
  /** Centre in frame pixels. */
  cx: number;
  cy: number;
  /** Nominal size in pixels (diameter-like). */
  size: number;
  /** Rotation in radians. */
  angle: number;
  /** Brightness jitter, about 0.85..1.15. */
  shade: number;
  defect?: Defect;
}

export interface SceneGeometry {
  /** Distance between two parts on the belt, px. */
  pitch: number;
  /** Belt movement per frame, px. */
  speed: number;
  /** Nominal part size, px. */
  partSize: number;
}

export function sceneGeometry(o: Pick<SceneOptions, 'width' | 'height' | 'partScale'>): SceneGeometry {
  const partSize = Math.max(
    16,
    Math.round(Math.min(o.width, o.height) * (o.partScale ?? DEFAULT_PART_SCALE)),
  );
  return {
    partSize,
    pitch: Math.max(partSize * 2, Math.round(o.width * 0.55)),
    // a part crosses the frame in about 60 frames: motion is visible but parts stay recognisable
    speed: Math.max(1, Math.round(o.width / 60)),
  };
}

/** The fixed properties of part number `index` (independent of the frame). */
export function partProperties(o: SceneOptions, index: number): Omit<PartPlan, 'cx' | 'cy'> & { dy: number } {
  const rnd = mulberry32(hashInts(o.seed, index, 0x5eed));
  const g = sceneGeometry(o);
  // the same draw for every kind list, so the default list gives the line it always gave
  const kinds = o.kinds && o.kinds.length > 0 ? o.kinds : PART_KINDS;
  const kind = kinds[Math.floor(rnd() * kinds.length)];
  const size = g.partSize * (0.85 + 0.3 * rnd());
  const angle = rnd() * Math.PI * 2;
  const shade = 0.85 + 0.3 * rnd();
  const dy = (rnd() - 0.5) * 0.2 * o.height;
  let defect: Defect | undefined;
  if (rnd() < o.defectRate) {
    const defectKind = DEFECT_KINDS[Math.floor(rnd() * DEFECT_KINDS.length)];
    defect = {
      kind: defectKind,
      u: (rnd() - 0.5) * 0.4,
      v: (rnd() - 0.5) * 0.4,
      u2: (rnd() - 0.5) * 0.6,
      v2: (rnd() - 0.5) * 0.6,
      light: rnd() < 0.5,
    };
  }
  return { index, kind, size, angle, shade, dy, defect };
}

/** The parts visible (at least partly) in frame number `frameIndex`, left to right. */
export function planFrame(o: SceneOptions, frameIndex: number): PartPlan[] {
  const g = sceneGeometry(o);
  const travelled = frameIndex * g.speed;
  const reach = g.partSize; // a part's extent from its centre, rounded up generously
  // part p sits at x = p * pitch - travelled + width / 2 (part 0 centred in frame 0); the belt
  // moves right to left
  const first = Math.ceil((travelled - o.width / 2 - reach) / g.pitch);
  const last = Math.floor((travelled + o.width / 2 + reach) / g.pitch);
  const parts: PartPlan[] = [];
  for (let p = first; p <= last; p++) {
    const { dy, ...props } = partProperties(o, p);
    parts.push({ ...props, cx: p * g.pitch - travelled + o.width / 2, cy: o.height / 2 + dy });
  }
  return parts;
}

/** Horizontal offset of the belt texture in frame `frameIndex`, modulo the texture period. */
export function beltOffset(
  o: Pick<SceneOptions, 'width' | 'height' | 'partScale'>,
  frameIndex: number,
  period: number,
): number {
  return (frameIndex * sceneGeometry(o).speed) % period;
}
