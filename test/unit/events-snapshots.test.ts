// Snapshot JPEGs and their retention, with real OpenCV and a temporary folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SnapshotStore,
  SnapshotError,
  renderOverlay,
  type SnapshotConfig,
} from '../../src/events/snapshots.js';
import { extractRegions } from '../../src/postprocess/regions.js';
import type { MapSource } from '../../src/geometry/map-to-frame.js';
import { newEventId } from '../../src/events/ids.js';
import { loadOpenCV } from '../../src/util/opencv.js';

const cv = loadOpenCV();

function cfg(over: Partial<SnapshotConfig> = {}): SnapshotConfig {
  return {
    dir: mkdtempSync(join(tmpdir(), 'snap-')),
    maxCount: 100,
    maxBytes: 1 << 30,
    maxAgeH: 1,
    jpegQuality: 80,
    ...over,
  };
}

function grayFrame(w: number, h: number, v = 100) {
  return new cv.Mat(h, w, cv.CV_8UC3, [v, v, v]);
}

function hotMap(size: number, rect: { x: number; y: number; w: number; h: number }): Float32Array {
  const m = new Float32Array(size * size);
  for (let y = rect.y; y < rect.y + rect.h; y++)
    for (let x = rect.x; x < rect.x + rect.w; x++) m[y * size + x] = 1;
  return m;
}

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.jpg'))
    .sort();
}

test('save writes a frame and an overlay JPEG and returns references without the bytes in them', async () => {
  const c = cfg();
  const store = new SnapshotStore(c);
  const id = newEventId();
  const frame = grayFrame(320, 240);
  const src: MapSource = { width: 320, height: 240, roi: { x: 40, y: 20, width: 160, height: 160 } };
  const saved = await store.save({
    eventId: id,
    cameraId: 'cam1',
    frame,
    mapSmoothed: hotMap(16, { x: 2, y: 2, w: 4, h: 4 }),
    mapSize: 16,
    source: src,
    topic: 'adaclip-edge/cam1/snapshot',
  });
  assert.deepEqual(
    saved.map((s) => s.ref.kind),
    ['frame', 'overlay'],
  );
  for (const { ref, jpeg } of saved) {
    assert.equal(ref.path, `cam1/${id}-${ref.kind}.jpg`);
    assert.equal(ref.topic, 'adaclip-edge/cam1/snapshot');
    assert.equal(ref.contentType, 'image/jpeg');
    const onDisk = readFileSync(join(c.dir, ref.path));
    assert.ok(onDisk.equals(jpeg));
    assert.equal(ref.bytes, onDisk.length);
    assert.deepEqual([jpeg[0], jpeg[1]], [0xff, 0xd8], 'JPEG magic');
    const decoded = cv.imdecode(onDisk);
    assert.deepEqual([decoded.cols, decoded.rows, ref.width, ref.height], [320, 240, 320, 240]);
    assert.ok(!('data' in ref) && !('jpeg' in ref));
  }
  assert.deepEqual(store.stats, { count: 2, bytes: saved[0].ref.bytes + saved[1].ref.bytes, deleted: 0 });
});

for (const rotate of [0, 90, 270] as const) {
  test(`the overlay heat lands where the regions say, outside the ROI the frame is untouched (rotate ${rotate})`, () => {
    // captured 300x200; ROI 128x128 in the upright frame
    const src: MapSource = {
      width: 300,
      height: 200,
      rotate,
      roi: { x: 30, y: 40, width: 128, height: 128 },
    };
    const S = 16;
    const map = hotMap(S, { x: 9, y: 3, w: 4, h: 5 });
    const [region] = extractRegions(map, S, src, { pixelThreshold: 0.5, minAreaPct: 0 }).regions;
    const frame = grayFrame(300, 200);
    const out = renderOverlay(frame, map, S, src);
    // inside the region (away from its edge, where the resize blends): JET(1.0) is dark red
    const cx = Math.round(region.centroid.x);
    const cy = Math.round(region.centroid.y);
    const hot = out.at(cy, cx) as unknown as { x: number; y: number; z: number }; // x=B y=G z=R
    assert.ok(hot.z > hot.x + 30, `red over blue at the region centre, got ${JSON.stringify(hot)}`);
    // the ROI outside the hot region: JET(0) is dark blue
    const roiFrame = extractRegions(new Float32Array(S * S).fill(1), S, src, {
      pixelThreshold: 0.5,
      minAreaPct: 0,
    }).regions[0];
    const cold = out.at(roiFrame.y + 1, roiFrame.x + 1) as unknown as { x: number; y: number; z: number };
    assert.ok(cold.x > cold.z + 30, `blue over red in the cold ROI corner, got ${JSON.stringify(cold)}`);
    // outside the ROI nothing changed
    const diff = out.absdiff(frame).cvtColor(cv.COLOR_BGR2GRAY);
    const outside = diff.copy();
    outside.drawRectangle(
      new cv.Rect(roiFrame.x, roiFrame.y, roiFrame.width, roiFrame.height),
      new cv.Vec3(0, 0, 0),
      -1,
    );
    assert.equal(outside.countNonZero(), 0);
  });
}

test('retention by count deletes the oldest files first', async () => {
  const c = cfg({ maxCount: 4 });
  const store = new SnapshotStore(c);
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const id = newEventId();
    ids.push(id);
    await store.save({ eventId: id, cameraId: 'cam1', frame: grayFrame(64, 48, 50 + i) });
    await store.save({ eventId: id + 'b', cameraId: 'cam2', frame: grayFrame(64, 48) });
  }
  // 6 files written, 4 kept: the first event's two files went
  assert.deepEqual(
    files(c.dir),
    [
      `cam1/${ids[1]}-frame.jpg`,
      `cam1/${ids[2]}-frame.jpg`,
      `cam2/${ids[1]}b-frame.jpg`,
      `cam2/${ids[2]}b-frame.jpg`,
    ].sort(),
  );
  assert.equal(store.stats.deleted, 2);
});

test('retention by bytes keeps the total under maxBytes', async () => {
  const probe = new SnapshotStore(cfg());
  const [one] = await probe.save({ eventId: newEventId(), cameraId: 'c', frame: grayFrame(200, 200) });
  const c = cfg({ maxBytes: one.ref.bytes * 3 + 10 });
  const store = new SnapshotStore(c);
  for (let i = 0; i < 6; i++)
    await store.save({ eventId: newEventId(), cameraId: 'c', frame: grayFrame(200, 200) });
  const onDisk = files(c.dir).reduce((s, f) => s + statSync(join(c.dir, f)).size, 0);
  assert.ok(onDisk <= c.maxBytes, `${onDisk} > ${c.maxBytes}`);
  assert.equal(files(c.dir).length, 3);
  assert.equal(store.stats.bytes, onDisk);
});

test('retention by age, including files left by an earlier run', async () => {
  const c = cfg({ maxAgeH: 2 });
  let now = Date.now();
  const first = new SnapshotStore(c, undefined, () => now);
  const oldId = newEventId();
  await first.save({ eventId: oldId, cameraId: 'cam1', frame: grayFrame(32, 32) });
  // the file is 3 hours old when a new process starts
  const oldPath = join(c.dir, 'cam1', `${oldId}-frame.jpg`);
  const past = new Date(now - 3 * 3_600_000);
  utimesSync(oldPath, past, past);
  const second = new SnapshotStore(c, undefined, () => now);
  await second.init();
  assert.equal(second.stats.count, 1, 'the earlier file is indexed');
  const newId = newEventId();
  await second.save({ eventId: newId, cameraId: 'cam1', frame: grayFrame(32, 32) });
  assert.deepEqual(files(c.dir), [`cam1/${newId}-frame.jpg`]);
  // and later the new one ages out on a prune
  now += 2 * 3_600_000 + 1;
  assert.equal(await second.prune(), 1);
  assert.deepEqual(files(c.dir), []);
});

test('bad input is refused with a clear error', async () => {
  const store = new SnapshotStore(cfg());
  await assert.rejects(
    store.save({ eventId: '../x', cameraId: 'cam1', frame: grayFrame(8, 8) }),
    /eventId "..\/x" is not safe/,
  );
  await assert.rejects(
    store.save({ eventId: 'x', cameraId: 'cam1', frame: new cv.Mat(8, 8, cv.CV_32FC1, 0) }),
    SnapshotError,
  );
  await assert.rejects(
    store.save({
      eventId: 'y',
      cameraId: 'cam1',
      frame: grayFrame(8, 8),
      mapSmoothed: new Float32Array(4),
      mapSize: 2,
      source: { width: 10, height: 8, roi: { x: 0, y: 0, width: 8, height: 8 } },
    }),
    /frame is 8x8 but the map source says 10x8/,
  );
  assert.throws(() => new SnapshotStore(cfg({ jpegQuality: 0 })), /jpegQuality/);
});
