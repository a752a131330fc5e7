// The map -> frame mapping under rotation, checked against the index definition of a clockwise
// rotation (upright[r][c] = captured[H-1-c][r]) rather than against the formulas it implements.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  mapRectToFrame,
  uprightSize,
  type MapSource,
  type Rotation,
} from '../../src/geometry/map-to-frame.js';

/** The captured pixel (x, y) that lands on upright pixel (c, r), by rotating index grids. */
function capturedPixelOf(
  c: number,
  r: number,
  W: number,
  H: number,
  rot: Rotation,
): { x: number; y: number } {
  // apply a 90-degree clockwise step rot/90 times to a grid of (x, y) labels and read the label at (c, r)
  let grid: { x: number; y: number }[][] = [];
  for (let y = 0; y < H; y++) grid.push(Array.from({ length: W }, (_, x) => ({ x, y })));
  for (let i = 0; i < rot / 90; i++) {
    const h = grid.length;
    const w = grid[0].length;
    const next: { x: number; y: number }[][] = [];
    for (let rr = 0; rr < w; rr++) next.push(Array.from({ length: h }, (_, cc) => grid[h - 1 - cc][rr]));
    grid = next;
  }
  return grid[r][c];
}

for (const rot of [0, 90, 180, 270] as Rotation[]) {
  test(`a single map pixel maps onto the captured pixel it came from (rotate ${rot})`, () => {
    const W = 7;
    const H = 4;
    const up = uprightSize({ width: W, height: H, roi: { x: 0, y: 0, width: 1, height: 1 }, rotate: rot });
    assert.deepEqual(up, rot % 180 === 0 ? { width: W, height: H } : { width: H, height: W });
    const S = 8;
    for (let r = 0; r < up.height; r++) {
      for (let c = 0; c < up.width; c++) {
        // the ROI is the single upright pixel (c, r): the whole map covers it
        const src: MapSource = { width: W, height: H, roi: { x: c, y: r, width: 1, height: 1 }, rotate: rot };
        const box = mapRectToFrame({ x: 0, y: 0, width: S, height: S }, S, src);
        const want = capturedPixelOf(c, r, W, H, rot);
        assert.deepEqual(box, { x: want.x, y: want.y, width: 1, height: 1 }, `upright (${c},${r})`);
      }
    }
  });
}
