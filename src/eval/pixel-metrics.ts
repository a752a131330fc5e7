// Pixel-level metrics over every map of a test set: AUROC, AP, F1-max and AUPRO (FPR limit 0.3).
// Hundreds of 518 x 518 maps are ~100M scores, so they go into typed arrays sized up front (the
// caller counts normal and defective pixels from the masks first) and each class is sorted once by
// a radix sort: normal scores alone, defective ones with the index of their ground-truth region.
// Memory: 4 bytes per normal and 8 per defective pixel, twice that while sorting.
import type { MaskRegions } from './ground-truth.js';
import { radixSortFloat32 } from './radix-sort.js';
import { AUPRO_FPR_LIMIT, rankMetrics, type RankMetrics } from './rank-metrics.js';

export interface PixelCounts {
  normal: number;
  defective: number;
}

export class PixelMetricsAccumulator {
  private readonly neg: Float32Array;
  private readonly pos: Float32Array;
  /** Region (index into `areas`) of each defective pixel. */
  private readonly posRegion: Uint32Array;
  private nNeg = 0;
  private nPos = 0;
  private readonly areas: number[] = [];

  constructor(readonly expected: PixelCounts) {
    this.neg = new Float32Array(expected.normal);
    this.pos = new Float32Array(expected.defective);
    this.posRegion = new Uint32Array(expected.defective);
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
    if (gt) for (let r = 0; r < gt.count; r++) this.areas.push(gt.areas[r]);
    for (let i = 0; i < map.length; i++) {
      const v = map[i];
      if (!Number.isFinite(v)) throw new Error(`pixel metrics: map value ${i} is ${v}, not a finite number`);
      const r = labels ? labels[i] : 0;
      if (r === 0) {
        if (this.nNeg === this.neg.length) throw this.overflow();
        this.neg[this.nNeg++] = v;
      } else {
        if (this.nPos === this.pos.length) throw this.overflow();
        this.posRegion[this.nPos] = base + r - 1;
        this.pos[this.nPos++] = v;
      }
    }
  }

  compute(fprLimit = AUPRO_FPR_LIMIT): RankMetrics & { aupro: number } {
    if (this.nNeg !== this.expected.normal || this.nPos !== this.expected.defective)
      throw new Error(
        `pixel metrics: expected ${this.expected.normal} normal and ${this.expected.defective} defective pixels, got ${this.nNeg} and ${this.nPos}`,
      );
    radixSortFloat32(this.neg);
    radixSortFloat32(this.pos, this.posRegion);
    const R = this.areas.length;
    const posWeight = new Float64Array(this.nPos);
    for (let k = 0; k < this.nPos; k++) posWeight[k] = 1 / (this.areas[this.posRegion[k]] * R);
    const m = rankMetrics({ neg: this.neg, pos: this.pos, posWeight, fprLimit });
    return { ...m, aupro: m.aupro! };
  }

  private overflow(): Error {
    return new Error(
      `pixel metrics: more pixels than counted from the masks (${this.expected.normal} normal, ${this.expected.defective} defective)`,
    );
  }
}
