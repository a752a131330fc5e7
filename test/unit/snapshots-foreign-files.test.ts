// Snapshot retention deletes only what the store writes: `<ULID>-frame.jpg` / `<ULID>-overlay.jpg`
// in a camera's folder. Other files in snapshots.dir (a photo someone saved there, notes, files of
// another program, a folder that is not a camera's) survive every limit, however old.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newEventId } from '../../src/events/ids.js';
import { SnapshotStore } from '../../src/events/snapshots.js';

test('retention by age and by count leaves files the store did not write', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'snap-foreign-'));
  const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000);
  const put = (f: string, at: Date) => {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), 'bytes');
    utimesSync(join(dir, f), at, at);
  };
  const foreign = [
    'cam1/holiday.jpg',
    'cam1/notes.txt',
    `cam1/${newEventId()}-frame.jpg.bak`,
    `cam1/${newEventId()}-thumbnail.jpg`,
    'README.jpg',
    `other program/${newEventId()}-frame.jpg`,
  ];
  for (const f of foreign) put(f, hoursAgo(100)); // older than any limit: first in line, were it indexed
  // ours, left by earlier runs: three too old, three recent (one too many for maxCount 2)
  const old = [3, 2, 1].map((i) => `cam1/${newEventId(Date.now() - (100 + i) * 3_600_000)}-frame.jpg`);
  const recent = [3, 2, 1].map((i) => `cam2/${newEventId(Date.now() - i * 60_000)}-overlay.jpg`);
  old.forEach((f, i) => put(f, hoursAgo(100 + 3 - i)));
  recent.forEach((f, i) => put(f, new Date(Date.now() - (3 - i) * 60_000)));

  const store = new SnapshotStore({ dir, maxCount: 2, maxBytes: 1 << 30, maxAgeH: 1, jpegQuality: 80 });
  await store.init();
  assert.equal(store.stats.count, 6, 'only our own files are indexed');
  assert.equal(await store.prune(), 4);
  for (const f of foreign) assert.ok(existsSync(join(dir, f)), `${f} was deleted`);
  for (const f of old) assert.ok(!existsSync(join(dir, f)), `${f}: too old, deleted`);
  assert.ok(!existsSync(join(dir, recent[0])), 'the oldest recent one went for maxCount');
  assert.ok(existsSync(join(dir, recent[1])) && existsSync(join(dir, recent[2])));
});
