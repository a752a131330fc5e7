// Frame handling with real OpenCV Mats: ROI/rotation geometry, batches, and refusal of bad frames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capturedRect, PreprocessError, Preprocessor, sourceOf } from '../../src/preprocess/preprocess.js';
import type { Rotation } from '../../src/geometry/map-to-frame.js';
import { loadOpenCV } from '../../src/util/opencv.js';

const cv = loadOpenCV();

function noiseMat(width: number, height: number, seed: number): InstanceType<typeof cv.Mat> {
  const buf = Buffer.alloc(width * height * 3);
  let s = seed;
  for (let i = 0; i < buf.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    buf[i] = s >>> 24;
  }
  return new cv.Mat(buf, height, width, cv.CV_8UC3);
}

const ROTATE: Record<90 | 180 | 270, number> = {
  90: cv.ROTATE_90_CLOCKWISE,
  180: cv.ROTATE_180,
  270: cv.ROTATE_90_COUNTERCLOCKWISE,
};

test('cropping the captured frame then rotating equals rotating then cropping the ROI', () => {
  const frame = noiseMat(64, 40, 3);
  for (const rotate of [0, 90, 180, 270] as Rotation[]) {
    const upright = rotate === 0 ? frame : frame.rotate(ROTATE[rotate]);
    for (const roi of [
      { x: 0, y: 0, width: upright.cols, height: upright.rows },
      { x: 3, y: 5, width: 17, height: 11 },
      { x: upright.cols - 9, y: upright.rows - 4, width: 9, height: 4 },
    ]) {
      const want = upright
        .getRegion(new cv.Rect(roi.x, roi.y, roi.width, roi.height))
        .copy()
        .getData();
      const r = capturedRect(sourceOf(64, 40, { rotate, roi }));
      let crop = frame.getRegion(new cv.Rect(r.x, r.y, r.width, r.height));
      crop = rotate === 0 ? crop.copy() : crop.rotate(ROTATE[rotate]);
      assert.deepEqual(crop.getData(), want, `rotate ${rotate} roi ${JSON.stringify(roi)}`);
    }
  }
});

test('a batch written at offsets equals single frames, and the ROI changes the result', () => {
  const p = new Preprocessor({ size: 32 });
  const a = noiseMat(100, 60, 1);
  const b = noiseMat(80, 90, 2);
  const batch = new Float32Array(3 * p.imageLength).fill(Number.NaN);
  p.frameInto(a, batch, 0);
  const src = p.frameInto(b, batch, p.imageLength, {
    rotate: 90,
    roi: { x: 10, y: 5, width: 50, height: 40 },
  });
  p.frameInto(a, batch, 2 * p.imageLength, { roi: { x: 1, y: 2, width: 30, height: 20 } });
  assert.deepEqual(batch.subarray(0, p.imageLength), p.frame(a).data);
  const single = p.frame(b, { rotate: 90, roi: { x: 10, y: 5, width: 50, height: 40 } });
  assert.deepEqual(batch.subarray(p.imageLength, 2 * p.imageLength), single.data);
  assert.deepEqual(src, single.source);
  assert.deepEqual(src, { width: 80, height: 90, rotate: 90, roi: { x: 10, y: 5, width: 50, height: 40 } });
  assert.notDeepEqual(batch.subarray(2 * p.imageLength), batch.subarray(0, p.imageLength));
  assert.ok(batch.every(Number.isFinite));
});

test('bad frames and views are refused with an error naming the problem', () => {
  const p = new Preprocessor({ size: 16 });
  const ok = noiseMat(40, 30, 5);
  const cases: [() => unknown, RegExp][] = [
    [() => p.frame(new cv.Mat()), /empty Mat/],
    [() => p.frame(new cv.Mat(10, 10, cv.CV_32FC3)), /8-bit \(CV_8U\), got depth CV_32F/],
    [() => p.frame(new cv.Mat(10, 10, cv.CV_8UC4)), /3 \(BGR\) or 1 \(grey\) channels, got 4/],
    [() => p.frame(new cv.Mat(10, 10, cv.CV_8UC2)), /got 2/],
    [() => p.frame({} as never), /not an OpenCV Mat/],
    [
      () => p.frame(ok, { roi: { x: 30, y: 0, width: 20, height: 10 } }),
      /ROI .* lies outside the 40x30 frame/,
    ],
    [
      () => p.frame(ok, { rotate: 90, roi: { x: 0, y: 0, width: 40, height: 30 } }),
      /outside the 30x40 frame \(40x30 rotated by 90\)/,
    ],
    [() => p.frame(ok, { roi: { x: -1, y: 0, width: 5, height: 5 } }), /ROI must have integer x, y >= 0/],
    [() => p.frame(ok, { roi: { x: 0.5, y: 0, width: 5, height: 5 } }), /ROI must have integer/],
    [() => p.frame(ok, { roi: { x: 0, y: 0, width: 0, height: 5 } }), /width, height >= 1/],
    [() => p.frame(ok, { rotate: 45 as Rotation }), /rotate must be 0, 90, 180 or 270, got 45/],
    [() => p.frameInto(ok, new Float32Array(100), 0), /cannot take an image of 768 at offset 0/],
    [() => p.frameInto(ok, new Float32Array(768 * 2), 769), /at offset 769/],
    [() => p.rgb(new Uint8Array(10), 2, 2), /needs 12 bytes, got 10/],
    [() => p.rgb(new Uint8Array(0), 0, 2), /positive integers/],
    [() => new Preprocessor({ size: 0 }), /size must be an integer/],
    [() => new Preprocessor({ size: 8, std: [1, 0, 1] }), /std\[1\] must be a finite non-zero number/],
    [() => new Preprocessor({ size: 8, mean: [1, 2] }), /3 means and 3 stds/],
  ];
  for (const [fn, msg] of cases) {
    assert.throws(fn, (err: Error) => {
      assert.match(err.message, msg);
      return true;
    });
  }
  // the same instance still works after all those refusals
  assert.equal(p.frame(ok).data.length, 768);
  assert.throws(() => p.frame(new cv.Mat()), PreprocessError);
});

test('a grey frame gives three equal planes', () => {
  const p = new Preprocessor({ size: 24, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] });
  const grey = noiseMat(50, 30, 9).cvtColor(cv.COLOR_BGR2GRAY);
  const t = p.frame(grey);
  const n = 24 * 24;
  assert.deepEqual(t.data.subarray(0, n), t.data.subarray(n, 2 * n));
  assert.deepEqual(t.data.subarray(0, n), t.data.subarray(2 * n));
});
