// A PNG for a person to look at: the worst false positives and false negatives of an evaluation,
// one row each (the image, the smoothed anomaly map over it, the ground-truth mask) under a caption.
import type { Mat } from '@u4/opencv4nodejs';
import { renderOverlay } from '../events/snapshots.js';
import type { MapSource } from '../geometry/map-to-frame.js';
import { loadOpenCV } from '../util/opencv.js';

export interface GridCase {
  kind: 'FP' | 'FN';
  file: string;
  /** Shown in the caption, e.g. "good/003.png". */
  name: string;
  score: number;
  /** Smoothed map [S,S] and where it lies in the image. */
  map: Float32Array;
  source: MapSource;
  /** S x S, 1 = defective; absent for a normal image. */
  mask?: Uint8Array;
}

const CELL = 256;
const CAPTION = 24;
const HEADER = 48;
const COLUMNS = ['image', 'smoothed anomaly map over it', 'ground truth (defect white)'];

export function renderWorstGrid(
  cases: GridCase[],
  mapSize: number,
  threshold: number,
  thresholdFrom: string,
): Mat {
  const cv = loadOpenCV();
  const rows = Math.max(cases.length, 1);
  const width = CELL * 3;
  const canvas = new cv.Mat(HEADER + rows * (CAPTION + CELL), width, cv.CV_8UC3, [32, 32, 32]);
  const white = new cv.Vec3(255, 255, 255);
  const text = (s: string, x: number, y: number, color = white) =>
    canvas.putText(s, new cv.Point2(x, y), cv.FONT_HERSHEY_SIMPLEX, 0.45, color, 1, cv.LINE_AA);
  text(
    `worst false positives and false negatives at image threshold ${threshold.toFixed(4)} (${thresholdFrom})`,
    6,
    18,
  );
  COLUMNS.forEach((c, i) => text(c, i * CELL + 6, 40, new cv.Vec3(200, 200, 200)));
  if (cases.length === 0)
    text('none: every image is on the right side of the threshold', 6, HEADER + CAPTION + 20);
  cases.forEach((c, row) => {
    const y = HEADER + row * (CAPTION + CELL);
    const verdict = c.kind === 'FP' ? `>= ${threshold.toFixed(4)}` : `< ${threshold.toFixed(4)}`;
    const color = c.kind === 'FP' ? new cv.Vec3(80, 160, 255) : new cv.Vec3(255, 160, 80);
    text(`${c.kind}  ${tail(c.name, 70)}  score ${c.score.toFixed(4)} ${verdict}`, 6, y + 17, color);
    const image = cv.imread(c.file, cv.IMREAD_COLOR);
    const overlay = renderOverlay(image, c.map, mapSize, c.source);
    const maskBytes = Buffer.alloc(mapSize * mapSize);
    if (c.mask) for (let i = 0; i < maskBytes.length; i++) maskBytes[i] = c.mask[i] ? 255 : 0;
    const mask = new cv.Mat(maskBytes, mapSize, mapSize, cv.CV_8UC1).cvtColor(cv.COLOR_GRAY2BGR);
    [image, overlay, mask].forEach((m, col) => {
      const cell = m.resize(CELL, CELL, 0, 0, col === 2 ? cv.INTER_NEAREST : cv.INTER_AREA);
      cell.copyTo(canvas.getRegion(new cv.Rect(col * CELL, y + CAPTION, CELL, CELL)));
    });
    if (!c.mask) text('normal image: no defect', 2 * CELL + 6, y + CAPTION + 20, new cv.Vec3(160, 160, 160));
  });
  return canvas;
}

function tail(s: string, n: number): string {
  return s.length <= n ? s : '...' + s.slice(s.length - n + 3);
}
