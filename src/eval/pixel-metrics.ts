// Pixel-level metrics over every map of a test set: AUROC, AP, F1-max and AUPRO (FPR limit 0.3).
// Hundreds of 518 x 518 maps are ~100M scores, so they go into typed arrays sized up front (the
// caller counts normal and defective pixels from the masks first) and each class is sorted once:
// normal scores as a Float32Array, defective ones as float64 keys that carry the region too.
import { AUPRO_FPR_LIMIT, rankMetrics, type RankMetrics } from './rank-metrics.js';
import type { MaskRegions } from './ground-truth.js';

/** Regions fit in the low 21 bits of a key; the high 32 bits order the float32 score. */
const REGION_BITS = 2 ** 21;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** A uint32 whose unsigned order is the numeric order of the float32 `x` (NaN excluded). */
function orderKey(x: number): number {
  f32[0] = x;
  const u = u32[0];
  return u & 0x80000000 ? ~u >>> 0 : (u | 0x80000000) >>> 0;
}

function fromOrderKey(k: number): number {
  u32[0] = k & 0x80000000 ? (k & 0x7fffffff) >>> 0 : ~k >>> 0;
  return f32[0];
}

export interface PixelCounts {
  normal: number;
  defective: number;
}

export class PixelMetricsAccumulator {
  private readonly neg: Float32Array;
  private readonly keys: Float64Array;
  private nNeg = 0;
  private nPos = 0;
  private readonly areas: number[] = [];

  constructor(readonly expected: PixelCounts) {
    this.neg = new Float32Array(expected.normal);
    this.keys = new Float64Array(expected.defective);
  }

  get regions(): number {
    return this.areas.length;
  }

  /** One map (float32 [S*S]) and its ground truth; no regions = a normal image. */
  add(map: Float32Array, gt?: MaskRegions): void {
    const labels = gt?.labels;
    if (labels && labels.length !== map.length)
      throw new Error(`pixel metrics: map of ${map.length} pixels but mask of ${labels.length}`);
    const base = this.areas.length;
    if (gt) {
      if (base + gt.count >= REGION_BITS)
        throw new Error(`pixel metrics: more than ${REGION_BITS - 1} regions`);
      for (let r = 0; r < gt.count; r++) this.areas.push(gt.areas[r]);
    }
    for (let i = 0; i < map.length; i++) {
      const v = map[i];
      if (!Number.isFinite(v)) throw new Error(`pixel metrics: map value ${i} is ${v}, not a finite number`);
      const r = labels ? labels[i] : 0;
      if (r === 0) {
        if (this.nNeg === this.neg.length) throw this.overflow();
        this.neg[this.nNeg++] = v;
      } else {
        if (this.nPos === this.keys.length) throw this.overflow();
        this.keys[this.nPos++] = orderKey(v) * REGION_BITS + (base + r - 1);
      }
    }
  }

  compute(fprLimit = AUPRO_FPR_LIMIT): RankMetrics & { aupro: number } {
    if (this.nNeg !== this.expected.normal || this.nPos !== this.expected.defective)
      throw new Error(
        `pixel metrics: expected ${this.expected.normal} normal and ${this.expected.defective} defective pixels, got ${this.nNeg} and ${this.nPos}`,
      );
    this.neg.sort();
    this.keys.sort();
    const R = this.areas.length;
    const pos = new Float32Array(this.nPos);
    const posWeight = new Float64Array(this.nPos);
    for (let k = 0; k < this.nPos; k++) {
      const key = this.keys[k];
      const region = key % REGION_BITS;
      pos[k] = fromOrderKey((key - region) / REGION_BITS);
      posWeight[k] = 1 / (this.areas[region] * R);
    }
    const m = rankMetrics({ neg: this.neg, pos, posWeight, fprLimit });
    return { ...m, aupro: m.aupro! };
  }

  private overflow(): Error {
    return new Error(
      `pixel metrics: more pixels than counted from the masks (${this.expected.normal} normal, ${this.expected.defective} defective)`,
    );
  }
}
