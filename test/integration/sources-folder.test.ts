// The folder source with real files decoded by OpenCV: natural order, once or looping, unreadable
// files skipped and counted, clear errors for a missing or empty folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { loadOpenCV } from '../../src/util/opencv.js';
import { cameraSchema } from '../../src/config/schema.js';
import { FolderSource, listFolder } from '../../src/sources/folder.js';
import { createPipeline } from '../../src/pipeline/pipeline.js';
import { createFakeStages } from '../helpers/fake-pipeline-stages.js';

const cv = loadOpenCV();

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'folder-'));
  // names chosen so that plain string order (frame_10 < frame_2) differs from natural order
  for (const n of [1, 2, 3, 10, 11])
    cv.imwrite(join(dir, `frame_${n}.png`), new cv.Mat(32, 48, cv.CV_8UC3, [n, n, n]));
  cv.imwrite(join(dir, 'frame_12.JPG'), new cv.Mat(32, 48, cv.CV_8UC3, [120, 120, 120]));
  writeFileSync(join(dir, 'frame_4.png'), 'this is not a PNG');
  writeFileSync(join(dir, 'notes.txt'), 'ignored by the pattern');
  mkdirSync(join(dir, 'sub'));
  return dir;
}

const defaults = { pattern: '*.{png,jpg,jpeg,bmp,tif,tiff}', loop: false };

test('files are listed in natural order, matched case-insensitively, non-images left out', async () => {
  const dir = folder();
  const files = (await listFolder(dir, defaults.pattern)).map((f) => basename(f));
  assert.deepEqual(files, [
    'frame_1.png',
    'frame_2.png',
    'frame_3.png',
    'frame_4.png',
    'frame_10.png',
    'frame_11.png',
    'frame_12.JPG',
  ]);
});

test('once: every readable image once, in order; an unreadable file is skipped and reported', async () => {
  const dir = folder();
  const unreadable: string[] = [];
  const s = new FolderSource({ path: dir, ...defaults, onUnreadable: (f) => unreadable.push(basename(f)) });
  assert.equal(s.realtime, false);
  await s.open();
  const names: string[] = [];
  for (let f = await s.read(); f; f = await s.read()) {
    names.push(basename(f.sourcePath!));
    assert.deepEqual(f.originalSize, { width: 48, height: 32 });
  }
  assert.deepEqual(names, [
    'frame_1.png',
    'frame_2.png',
    'frame_3.png',
    'frame_10.png',
    'frame_11.png',
    'frame_12.JPG',
  ]);
  assert.deepEqual(unreadable, ['frame_4.png']);
});

test('loop: starts again after the last file', async () => {
  const s = new FolderSource({ path: folder(), ...defaults, loop: true });
  await s.open();
  const names: string[] = [];
  for (let i = 0; i < 8; i++) names.push(basename((await s.read())!.sourcePath!));
  assert.deepEqual(names.slice(5), ['frame_12.JPG', 'frame_1.png', 'frame_2.png']);
  await s.close();
});

test('a missing folder, a file instead of a folder, and an empty match are clear errors', async () => {
  await assert.rejects(
    new FolderSource({ path: '/nonexistent/images', ...defaults }).open(),
    /image folder \/nonexistent\/images does not exist/,
  );
  const dir = folder();
  await assert.rejects(
    new FolderSource({ path: join(dir, 'notes.txt'), ...defaults }).open(),
    /is not a folder/,
  );
  await assert.rejects(
    new FolderSource({ path: join(dir, 'sub'), ...defaults }).open(),
    /no file in .*sub matches/,
  );
});

test('a folder through the pipeline: nothing lost under the default policy, the bad file counted', async () => {
  const dir = folder();
  const cam = cameraSchema.parse({ id: 'f', className: 'pcb', source: { kind: 'folder', path: dir } });
  assert.equal(cam.admission.policy, 'latest', 'the default policy');
  const paths: string[] = [];
  const p = createPipeline({
    cameras: [cam],
    settings: { batchDeadlineMs: 2, maxInFlight: 1, shutdownDrainMs: 1000 },
    maxBatch: 2,
    // a slow fake engine: a folder read as fast as possible would flood a latest-wins queue
    stages: createFakeStages({
      engineLatencyMs: 20,
      onPublish: (_d, job) => void paths.push(basename(job.frame.sourcePath!)),
    }),
  });
  p.start();
  await p.done;
  assert.equal(paths.length, 6);
  assert.equal(p.drops.counts('f')['unreadable-input'], 1);
  assert.equal(p.drops.total(), 1);
});
