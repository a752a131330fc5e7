// Regions mapped back through rotation, ROI and resize, checked against OpenCV doing the forward
// chain on a real image: paint a rectangle in the captured frame, rotate it with cv.rotate, crop the
// ROI, resize it to the map size, and expect the region to come back as the painted rectangle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractRegions } from '../../src/postprocess/regions.js';
import type { MapSource, Rotation } from '../../src/geometry/map-to-frame.js';
import { loadOpenCV } from '../../src/util/opencv.js';

const cv = loadOpenCV();
const CODES: Record<Rotation, number | undefined> = {
  0: undefined,
  90: cv.ROTATE_90_CLOCKWISE,
  180: cv.ROTATE_180,
  270: cv.ROTATE_90_COUNTERCLOCKWISE,
};

for (const rotate of [0, 90, 180, 270] as Rotation[]) {
  test(`a painted rectangle survives rotate ${rotate} + ROI + resize and maps back exactly`, () => {
    const W = 640;
    const H = 480;
    const painted = { x: 200, y: 120, width: 80, height: 40 };
    const frame = new cv.Mat(H, W, cv.CV_8UC1, 0);
    frame.drawRectangle(
      new cv.Rect(painted.x, painted.y, painted.width, painted.height),
      new cv.Vec3(255, 255, 255),
      -1,
    );
    const code = CODES[rotate];
    const upright = code === undefined ? frame : frame.rotate(code);
    // a 320x320 ROI of the upright frame that contains the rectangle, resized 4:1 to 80x80
    const S = 80;
    const roi =
      rotate % 180 === 0
        ? { x: 120, y: 40, width: 320, height: 320 }
        : { x: 80, y: 120, width: 320, height: 320 };
    const crop = upright.getRegion(new cv.Rect(roi.x, roi.y, roi.width, roi.height));
    const small = crop.resize(S, S, 0, 0, cv.INTER_AREA);
    const bytes = small.getData();
    const map = new Float32Array(S * S);
    for (let i = 0; i < map.length; i++) map[i] = bytes[i] / 255;
    const src: MapSource = { width: W, height: H, rotate, roi };
    const { regions } = extractRegions(map, S, src, { pixelThreshold: 0.5, minAreaPct: 0 });
    assert.equal(regions.length, 1, JSON.stringify(regions));
    const r = regions[0];
    assert.deepEqual({ x: r.x, y: r.y, width: r.width, height: r.height }, painted);
    assert.equal(r.areaPx, painted.width * painted.height);
    assert.ok(Math.abs(r.centroid.x - (painted.x + painted.width / 2)) < 0.01);
    assert.ok(Math.abs(r.centroid.y - (painted.y + painted.height / 2)) < 0.01);
  });
}
