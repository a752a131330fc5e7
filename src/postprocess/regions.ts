// Defect regions: threshold the smoothed anomaly map, label 8-connected components with OpenCV, and
// describe each in original frame pixels (see geometry.ts for the map -> frame mapping).
import type { Region } from './detection.js';
import {
  framePixelsPerMapPixel,
  mapPointToFrame,
  mapRectToFrame,
  validateMapSource,
  type MapSource,
} from './geometry.js';
import { loadOpenCV } from '../util/opencv.js';

export interface RegionOptions {
  /** Map value at or above which a pixel is defective. */
  pixelThreshold: number;
  /** Regions smaller than this percentage of the inspected area (the ROI) are dropped. */
  minAreaPct: number;
  /** Keep at most this many regions (highest max score first) so events stay small. */
  maxRegions?: number;
}

export interface RegionResult {
  /** Regions that passed the area filter, highest max score first, at most maxRegions. */
  regions: Region[];
  /** How many regions passed the area filter before the maxRegions cap. */
  total: number;
  /** Defective map pixels (before the area filter). */
  defectivePixels: number;
}

export const DEFAULT_MAX_REGIONS = 32;

export class MapError extends Error {
  override name = 'MapError';
}

export function validateMap(map: Float32Array, mapSize: number): void {
  if (!(map instanceof Float32Array)) throw new MapError('anomaly map must be a Float32Array');
  if (!Number.isInteger(mapSize) || mapSize <= 0)
    throw new MapError(`map size must be a positive integer, got ${mapSize}`);
  if (map.length !== mapSize * mapSize)
    throw new MapError(
      `anomaly map has ${map.length} values, expected ${mapSize}x${mapSize} = ${mapSize * mapSize}`,
    );
}

export function extractRegions(
  map: Float32Array,
  mapSize: number,
  src: MapSource,
  opts: RegionOptions,
): RegionResult {
  validateMap(map, mapSize);
  validateMapSource(src);
  const n = mapSize * mapSize;
  // Build the mask in JS: it gives ">=" semantics (cv.threshold is ">") and skips a float Mat copy.
  const mask = Buffer.alloc(n);
  let defective = 0;
  for (let i = 0; i < n; i++) {
    const v = map[i];
    if (Number.isNaN(v)) throw new MapError(`anomaly map holds NaN at index ${i}`);
    if (v >= opts.pixelThreshold) {
      mask[i] = 255;
      defective++;
    }
  }
  if (defective === 0) return { regions: [], total: 0, defectivePixels: 0 };

  const cv = loadOpenCV();
  const maskMat = new cv.Mat(mask, mapSize, mapSize, cv.CV_8UC1);
  const { labels, stats, centroids } = maskMat.connectedComponentsWithStats(8, cv.CV_32S);
  const count = stats.rows; // label 0 is the background
  const lab = int32View(labels.getData(), n);
  const st = int32View(stats.getData(), count * 5);
  const cen = float64View(centroids.getData(), count * 2);

  const maxScore = new Float64Array(count).fill(-Infinity);
  const sumScore = new Float64Array(count);
  for (let i = 0; i < n; i++) {
    const l = lab[i];
    if (l === 0) continue;
    const v = map[i];
    sumScore[l] += v;
    if (v > maxScore[l]) maxScore[l] = v;
  }

  const perPixel = framePixelsPerMapPixel(mapSize, src);
  const all: Region[] = [];
  for (let l = 1; l < count; l++) {
    const [left, top, width, height, area] = [
      st[l * 5],
      st[l * 5 + 1],
      st[l * 5 + 2],
      st[l * 5 + 3],
      st[l * 5 + 4],
    ];
    const areaPct = (area / n) * 100;
    if (areaPct < opts.minAreaPct) continue;
    const box = mapRectToFrame({ x: left, y: top, width, height }, mapSize, src);
    // OpenCV's centroid is in pixel-index coordinates: the centre of pixel j is j + 0.5 on our edges.
    const c = mapPointToFrame(cen[l * 2] + 0.5, cen[l * 2 + 1] + 0.5, mapSize, src);
    all.push({
      ...box,
      areaPx: Math.round(area * perPixel),
      areaPct: round(areaPct, 4),
      maxScore: maxScore[l],
      meanScore: sumScore[l] / area,
      centroid: { x: round(c.x, 2), y: round(c.y, 2) },
    });
  }
  all.sort((a, b) => b.maxScore - a.maxScore || b.areaPx - a.areaPx);
  const cap = opts.maxRegions ?? DEFAULT_MAX_REGIONS;
  return { regions: all.slice(0, cap), total: all.length, defectivePixels: defective };
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

// getData() returns a Buffer that may not be aligned for a typed view: copy when it is not.
function int32View(buf: Buffer, len: number): Int32Array {
  if (buf.byteOffset % 4 === 0) return new Int32Array(buf.buffer, buf.byteOffset, len);
  return new Int32Array(Uint8Array.prototype.slice.call(buf, 0, len * 4).buffer);
}

function float64View(buf: Buffer, len: number): Float64Array {
  if (buf.byteOffset % 8 === 0) return new Float64Array(buf.buffer, buf.byteOffset, len);
  return new Float64Array(Uint8Array.prototype.slice.call(buf, 0, len * 8).buffer);
}
