// OpenCV under V8's incremental marking. With the binding's external-memory tracking allocator on,
// a child process doing what the service does (decode on worker threads, rotate, crop, resize,
// encode) aborted within seconds under --stress-incremental-marking ("Check failed:
// marking_done_", SIGTRAP), as the service once did in CI. loadOpenCV turns the allocator off; this
// runs the same work in a child under the stress flag and needs it to finish.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { openCVMemoryTracking } from '../../src/util/opencv.js';

const opencvModule = pathToFileURL(fileURLToPath(new URL('../../src/util/opencv.js', import.meta.url))).href;

const childSource = `
import { loadOpenCV, openCVMemoryTracking } from ${JSON.stringify(opencvModule)};
const cv = loadOpenCV();
const seconds = Number(process.env.STRESS_SECONDS);
const frame = new cv.Mat(480, 640, cv.CV_8UC3, [90, 120, 150]);
frame.drawCircle(new cv.Point2(320, 240), 80, new cv.Vec3(10, 200, 30), -1);
const png = cv.imencode('.png', frame);
const t0 = Date.now();
let n = 0;
while (Date.now() - t0 < seconds * 1000) {
  await Promise.all([0, 1, 2, 3].map(async () => {
    const img = await cv.imdecodeAsync(png);
    const part = img.rotate(cv.ROTATE_90_CLOCKWISE).getRegion(new cv.Rect(20, 20, 300, 300)).copy();
    const small = part.resize(224, 224, 0, 0, cv.INTER_CUBIC);
    const jpeg = await cv.imencodeAsync('.jpg', img, [cv.IMWRITE_JPEG_QUALITY, 80]);
    const garbage = Array.from({ length: 2000 }, (_, i) => ({ i, s: 'x' + i }));
    return small.rows + jpeg.length + garbage.length;
  }));
  n += 4;
}
console.log(JSON.stringify({ frames: n, tracking: openCVMemoryTracking() }));
`;

test('loadOpenCV leaves V8 external-memory tracking off', () => {
  assert.equal(openCVMemoryTracking(), false);
});

test('OpenCV work on worker threads survives stressed incremental marking', () => {
  const res = spawnSync(
    process.execPath,
    ['--stress-incremental-marking', '--input-type=module', '-e', childSource],
    { encoding: 'utf8', env: { ...process.env, STRESS_SECONDS: '4' }, timeout: 120_000 },
  );
  const tail = `${res.stdout}\n${res.stderr}`.split('\n').slice(-25).join('\n');
  assert.equal(res.signal, null, `child killed by ${res.signal}:\n${tail}`);
  assert.equal(res.status, 0, `child exited ${res.status}:\n${tail}`);
  const last = JSON.parse(res.stdout.trim().split('\n').pop() ?? '{}') as {
    frames?: number;
    tracking?: boolean;
  };
  assert.equal(last.tracking, false);
  assert.ok((last.frames ?? 0) > 40, `only ${last.frames} frames in 4 s`);
});
