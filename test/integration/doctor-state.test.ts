// `adaclip-edge doctor --config` checks the state directory the way the service's start does
// (src/service/state-check.ts), without creating anything: one `state` line with the verdict. A
// writable folder with an outbox (closed, or open in a running service): its free space in bytes
// and the documents waiting; a folder not made yet: whether this user may make it (and doctor does
// not); a folder under a regular file (ENOTDIR, which holds for root too) and one this user may not
// write (EACCES: run as nobody when the tests run as root, since root writes through any mode
// bits): FAIL naming the key, the path and the reason, exit 1; an outbox that is not a database:
// FAIL; less free space than the config lets the service keep: WARN, exit 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { DurableOutbox } from '../../src/mqtt/outbox.js';
import { ROOT } from '../helpers/fixtures.js';

const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const BUNDLE = join(ROOT, 'models', 'bundles', 'demo-untrained');
const isRoot = process.getuid?.() === 0;

/** A config in `dir` with `stateDir` (and extra YAML); its camera's folder exists. */
function config(dir: string, stateDir: string, extra = ''): string {
  const frames = join(dir, 'frames');
  mkdirSync(frames, { recursive: true });
  const file = join(dir, `cfg-${Math.random().toString(16).slice(2, 8)}.yaml`);
  writeFileSync(
    file,
    `stateDir: ${stateDir}
model: { bundle: ${BUNDLE}, engine: { backend: onnxruntime } }
cameras:
  - { id: c1, className: screw, source: { kind: folder, path: ${frames} } }
${extra}`,
  );
  return file;
}

/** `doctor --config file`, as nobody (setpriv) when asked; its status and its `state` line. */
function doctor(file: string, asNobody = false): { status: number | null; line: string; out: string } {
  const args = [CLI, 'doctor', '--config', file];
  const r = asNobody
    ? spawnSync(
        'setpriv',
        ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, ...args],
        {
          cwd: '/',
          encoding: 'utf8',
          timeout: 60_000,
        },
      )
    : spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  const out = r.stdout + r.stderr;
  const lines = r.stdout.split('\n').filter((l) => /^\S+\s+state\s/.test(l));
  assert.equal(lines.length, 1, `one state line in:\n${out}`);
  return { status: r.status, line: lines[0], out };
}

const esc = (s: string) => s.replace(/[/.\\-]/g, '\\$&');

test('doctor: a writable state directory with an outbox, and one not made yet', async (t) => {
  assert.ok(
    existsSync(join(BUNDLE, 'manifest.json')),
    `demo bundle missing at ${BUNDLE}: run scripts/setup.sh`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'doctor-state-'));
  // 1. an existing state directory whose outbox holds two documents (the service closed it cleanly)
  const state = join(dir, 'state');
  const outbox = new DurableOutbox(
    { path: join(state, 'outbox.sqlite'), maxEvents: 10, overflow: 'drop-oldest' },
    pino({ level: 'silent' }),
  );
  outbox.open();
  await outbox.persistEvent({ cameraId: 'c1', eventId: 'e1', payload: Buffer.from('{}') });
  await outbox.persistEvent({ cameraId: 'c1', eventId: 'e2', payload: Buffer.from('{}') });
  outbox.close();
  const before = readdirSync(state).sort();
  const ok = doctor(config(dir, state));
  assert.equal(ok.status, 0, ok.out);
  assert.match(ok.line, new RegExp(`^ok\\s+state\\s+${esc(state)}: writable by \\S+ \\(uid \\d+\\); `));
  const free = /\((\d+) bytes\)/.exec(ok.line);
  assert.ok(free && Number(free[1]) > 0, `bytes free in: ${ok.line}`);
  assert.match(ok.line, new RegExp(`outbox ${esc(join(state, 'outbox.sqlite'))}: 2 document\\(s\\) waiting`));
  assert.deepEqual(readdirSync(state).sort(), before, 'doctor left nothing behind (no -wal, -shm or probe)');
  // the outbox open (a running service): read in place with its write-ahead log, which holds a third
  const running = new DurableOutbox(
    { path: join(state, 'outbox.sqlite'), maxEvents: 10, overflow: 'drop-oldest' },
    pino({ level: 'silent' }),
  );
  running.open();
  await running.persistEvent({ cameraId: 'c1', eventId: 'e3', payload: Buffer.from('{}') });
  const live = doctor(config(dir, state));
  running.close();
  assert.equal(live.status, 0, live.out);
  assert.match(live.line, /: 3 document\(s\) waiting for the broker(;|$)/);

  // 2. not made yet: the parent may be written, and doctor does not make it
  const later = join(dir, 'later', 'state');
  const missing = doctor(config(dir, later));
  assert.equal(missing.status, 0, missing.out);
  assert.match(
    missing.line,
    new RegExp(`^ok\\s+state\\s+${esc(later)}: does not exist yet, .* in ${esc(dir)} `),
  );
  assert.match(missing.line, /no outbox yet/);
  assert.ok(!existsSync(join(dir, 'later')), 'doctor created nothing');

  // 3. less free space than the config lets the service keep: a warning, not a failure
  const greedy = doctor(config(dir, state, `snapshots: { maxBytes: ${2 ** 52} }\n`));
  assert.equal(greedy.status, 0, greedy.out);
  assert.match(greedy.line, /^WARN\s+state\s+.* free \(\d+ bytes\), less than the 4\.0 PiB the config lets/);
  t.diagnostic(ok.line);
});

test('doctor: a state directory that cannot be used is a FAIL with the path and the reason', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'doctor-state-bad-'));
  // 1. under a regular file: ENOTDIR (root cannot write there either)
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  const notDir = doctor(config(dir, join(file, 'state')));
  assert.equal(notDir.status, 1, notDir.out);
  assert.match(
    notDir.line,
    new RegExp(
      `^FAIL state\\s+stateDir: cannot write in ${esc(join(file, 'state'))} \\(ENOTDIR\\): set stateDir`,
    ),
  );
  assert.match(notDir.out, /required check\(s\) failed/);

  // 2. an outbox file that is not a database: the service could not open it
  const state = join(dir, 'state');
  mkdirSync(state);
  writeFileSync(join(state, 'outbox.sqlite'), 'not a database, just text that is long enough '.repeat(4));
  const corrupt = doctor(config(dir, state));
  assert.equal(corrupt.status, 1, corrupt.out);
  assert.match(
    corrupt.line,
    new RegExp(
      `^FAIL state\\s+${esc(state)}: writable .*mqtt\\.outbox\\.path: cannot read ${esc(join(state, 'outbox.sqlite'))}: file is not a database`,
    ),
  );

  // 3. a folder this user may not write: EACCES (as nobody when we are root)
  chmodSync(dir, 0o755); // nobody may enter and read the config, not write
  const locked = join(dir, 'locked');
  mkdirSync(locked);
  let lockedRun;
  if (isRoot) {
    lockedRun = doctor(config(dir, locked), true);
  } else {
    chmodSync(locked, 0o555);
    t.after(() => chmodSync(locked, 0o755));
    lockedRun = doctor(config(dir, locked));
  }
  assert.equal(lockedRun.status, 1, lockedRun.out);
  assert.match(
    lockedRun.line,
    new RegExp(`^FAIL state\\s+stateDir: cannot write in ${esc(locked)} \\(EACCES\\): set stateDir`),
  );
  // and a folder below it, not made yet, cannot be made: EACCES too
  const below = isRoot
    ? doctor(config(dir, join(locked, 'sub')), true)
    : doctor(config(dir, join(locked, 'sub')));
  assert.equal(below.status, 1, below.out);
  assert.match(below.line, new RegExp(`cannot write in ${esc(join(locked, 'sub'))} \\(EACCES\\)`));
});
