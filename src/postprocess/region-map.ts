// The map that regions are extracted from, smoothed only where a region can be. scipy's
// gaussian_filter is a convex combination (positive weights summing to 1, reflect borders): a smoothed
// pixel is at most the largest raw pixel within the kernel radius r, so it can reach the pixel
// threshold only within r of a raw pixel that does (most frames on a good line have none, and skip
// smoothing altogether). Smoothing a window around those
// pixels (reaching r further, or to the image edge, where the reflect border is the full image's)
// gives the full smoothing's exact values inside that box (the same float operations per pixel;
// tested bit for bit), and every pixel outside stays below the threshold either way, so the
// regions are exactly those of the fully smoothed map. A defect of 40 px costs a 100 x 100 window
// instead of the whole 518 x 518 map.
import { GaussianFilter, type GaussianOptions } from './gaussian.js';
import { HotRowScanner } from './hot-rows.js';

export interface Box {
  x0: number;
  y0: number;
  /** exclusive */
  x1: number;
  y1: number;
}

export interface RegionMap {
  /** The map for extractRegions: the smoothed values wherever the threshold can be reached. */
  map: Float32Array;
  /** 'none': nothing can reach the threshold (map is the raw map); 'full': map is the smoothed map. */
  smoothed: 'none' | 'window' | 'full';
  /** The boxes holding exact smoothed values ('window'); they may overlap. */
  boxes?: Box[];
}

/**
 * A raw value this far under the threshold counts as reaching it: the margin covers the float
 * rounding of the weights. A NaN always counts, so the decision still reports it.
 */
export const MARGIN = 1e-5;
/** Windows are rounded up to multiples of this, so a few filter sizes serve every defect. */
const WINDOW_STEP = 64;
/** Filters kept for window sizes (each compiles a WebAssembly kernel for its size). */
const CACHE = 12;
/** Above this share of the map, one full smoothing is cheaper than a window. */
const FULL_SHARE = 0.5;

export class RegionMapper {
  readonly full: GaussianFilter;
  private readonly windows = new Map<string, GaussianFilter>();
  private readonly scanner: HotRowScanner;
  private readonly flags: Uint8Array;

  constructor(
    readonly size: number,
    private readonly opts: GaussianOptions = { sigma: 4, truncate: 4 },
  ) {
    this.full = new GaussianFilter(size, size, opts);
    this.scanner = new HotRowScanner(size, size);
    this.flags = new Uint8Array(size);
  }

  get radius(): number {
    return this.full.radius;
  }

  run(raw: Float32Array, pixelThreshold: number): RegionMap {
    const S = this.size;
    if (raw.length !== S * S) throw new Error(`region map: ${raw.length} values, expected ${S}x${S}`);
    const r = this.radius;
    const hot = hotBoxes(raw, S, pixelThreshold - MARGIN, 2 * r, this.scanner, this.flags);
    if (hot.length === 0) return { map: raw, smoothed: 'none' };
    const boxes = hot.map((h) => grow(h, r, S));
    const windows = boxes.map((b) => roundUp(grow(b, r, S), S));
    const area = windows.reduce((a, w) => a + (w.x1 - w.x0) * (w.y1 - w.y0), 0);
    if (area >= FULL_SHARE * S * S) return { map: this.full.run(raw), smoothed: 'full' };
    const map = raw.slice();
    boxes.forEach((box, i) => this.smoothInto(raw, map, box, windows[i]));
    return { map, smoothed: 'window', boxes };
  }

  /** Smooths window `win` of raw and writes its box into map. */
  private smoothInto(raw: Float32Array, map: Float32Array, box: Box, win: Box): void {
    const S = this.size;
    const ww = win.x1 - win.x0;
    const wh = win.y1 - win.y0;
    const input = new Float32Array(ww * wh);
    for (let y = 0; y < wh; y++)
      input.set(raw.subarray((win.y0 + y) * S + win.x0, (win.y0 + y) * S + win.x1), y * ww);
    const out = this.filter(wh, ww).run(input);
    const bw = box.x1 - box.x0;
    for (let y = box.y0; y < box.y1; y++) {
      const from = (y - win.y0) * ww + (box.x0 - win.x0);
      map.set(out.subarray(from, from + bw), y * S + box.x0);
    }
  }

  private filter(h: number, w: number): GaussianFilter {
    const key = `${h}x${w}`;
    let f = this.windows.get(key);
    if (f) {
      this.windows.delete(key); // re-insert: the Map's order is the recency order
    } else {
      f = new GaussianFilter(h, w, this.opts);
      if (this.windows.size >= CACHE) this.windows.delete(this.windows.keys().next().value!);
    }
    this.windows.set(key, f);
    return f;
  }
}

/**
 * Bounding boxes of the pixels that are not below limit (NaN included), one per band of rows
 * holding them, a new band where more than `gap` rows hold none (two defects far apart then cost
 * two small windows instead of one spanning both). Empty when there are none.
 */
function hotBoxes(
  map: Float32Array,
  S: number,
  limit: number,
  gap: number,
  scanner: HotRowScanner,
  flags: Uint8Array,
): Box[] {
  if (!scanner.scan(map, limit, flags)) return [];
  const boxes: Box[] = [];
  let band: Box | undefined;
  for (let y = 0; y < S; y++) {
    if (!flags[y]) continue;
    if (!band || y - band.y1 > gap) {
      band = { x0: S, y0: y, x1: 0, y1: y + 1 };
      boxes.push(band);
    }
    band.y1 = y + 1;
    for (let x = 0, i = y * S; x < S; x++, i++) {
      if (!(map[i] < limit)) {
        if (x < band.x0) band.x0 = x;
        if (x + 1 > band.x1) band.x1 = x + 1;
      }
    }
  }
  return boxes;
}

function grow(b: Box, by: number, S: number): Box {
  return {
    x0: Math.max(0, b.x0 - by),
    y0: Math.max(0, b.y0 - by),
    x1: Math.min(S, b.x1 + by),
    y1: Math.min(S, b.y1 + by),
  };
}

/** Widens a window to a multiple of WINDOW_STEP (or the whole side), inside the map: larger is still exact. */
function roundUp(b: Box, S: number): Box {
  const side = (a0: number, a1: number): [number, number] => {
    const want = Math.min(S, Math.ceil((a1 - a0) / WINDOW_STEP) * WINDOW_STEP);
    const end = Math.min(S, a0 + want);
    return [end - want, end];
  };
  const [x0, x1] = side(b.x0, b.x1);
  const [y0, y1] = side(b.y0, b.y1);
  return { x0, y0, x1, y1 };
}
