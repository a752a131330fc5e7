// Delivery of every accepted event, checked from outside: the real CLI (`adaclip-edge run`, as a
// child process) on a finite folder source, a real Mosquitto with persistence that is stopped and
// started during the run, and a separate `mosquitto_sub` with a persistent session counting distinct
// ids. What counts as accepted comes from the service's own files, read independently here: the
// outbox's `accepted` counter (committed in the same transaction as each event) and the history's
// event ids. The folder alternates two pictures whose scores (computed first with `adaclip-edge
// infer`) lie on either side of the threshold, so every frame raises or clears an alarm: one event
// per frame and camera.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ROOT } from '../helpers/fixtures.js';
import { persistentBroker } from '../helpers/persistent-broker.js';
import { OutsideSubscriber } from '../helpers/outside-subscriber.js';
import type { Mosquitto } from '../helpers/mosquitto.js';
import { loadOpenCV } from '../../src/util/opencv.js';

const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const BUNDLE = join(ROOT, 'models', 'bundles', 'demo-untrained');
const CAMERAS = ['cam1', 'cam2'];
const FPS = 4;

const work = mkdtempSync(join(tmpdir(), 'run-delivery-'));
const children: ChildProcess[] = [];
after(() => {
  children.forEach((c) => c.kill('SIGKILL'));
  rmSync(work, { recursive: true, force: true });
});

/** Two pictures and the threshold between their scores. */
let pictures: { low: string; high: string; threshold: number };

before(() => {
  assert.ok(
    existsSync(join(BUNDLE, 'manifest.json')),
    `demo bundle missing at ${BUNDLE}: run scripts/setup.sh`,
  );
  const cv = loadOpenCV();
  const plain = new cv.Mat(240, 320, cv.CV_8UC3, [110, 110, 110]);
  const busy = new cv.Mat(240, 320, cv.CV_8UC3, [110, 110, 110]);
  for (let y = 0; y < 240; y += 16)
    for (let x = (y / 16) % 2 ? 16 : 0; x < 320; x += 32)
      busy.drawRectangle(new cv.Point2(x, y), new cv.Point2(x + 15, y + 15), new cv.Vec3(250, 30, 30), -1);
  busy.drawCircle(new cv.Point2(160, 120), 50, new cv.Vec3(10, 240, 240), -1);
  const a = join(work, 'a.png');
  const b = join(work, 'b.png');
  cv.imwrite(a, plain);
  cv.imwrite(b, busy);
  const r = spawnSync(
    process.execPath,
    [CLI, 'infer', '--bundle', BUNDLE, '--class', 'screw', '--json', '--out', join(work, 'infer'), a, b],
    { cwd: ROOT, encoding: 'utf8', timeout: 120_000 },
  );
  assert.equal(r.status, 0, `infer failed: ${r.stderr}`);
  const [sa, sb] = r.stdout
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { score: number }).score);
  assert.ok(
    Math.abs(sa - sb) > 1e-4,
    `the two pictures score alike (${sa}, ${sb}): no threshold lies between them`,
  );
  pictures = { low: sa < sb ? a : b, high: sa < sb ? b : a, threshold: (sa + sb) / 2 };
});

/** A folder of n frames alternating low, high, low...: every frame is an alarm transition. */
function folder(dir: string, n: number): string {
  const f = join(dir, 'frames');
  mkdirSync(f, { recursive: true });
  for (let i = 0; i < n; i++)
    copyFileSync(i % 2 ? pictures.high : pictures.low, join(f, `${String(i).padStart(4, '0')}.png`));
  return f;
}

function writeConfig(
  dir: string,
  o: { url: string; base: string; frames: string; drainTimeoutMs: number; loop?: boolean },
): string {
  const file = join(dir, 'cfg.yaml');
  const camera = (id: string) => `
  - id: ${id}
    className: screw
    source: { kind: folder, path: ${o.frames}, fps: ${FPS}, loop: ${o.loop ?? false} }
    admission: { policy: keep-all, queueSize: 64 }
    thresholds: { image: ${pictures.threshold}, pixel: 0.99 }`;
  writeFileSync(
    file,
    `site: s
line: l
model: { bundle: ${BUNDLE}, engine: { backend: onnxruntime, maxBatch: 2 } }
cameras:${CAMERAS.map(camera).join('')}
mqtt:
  url: ${o.url}
  baseTopic: ${o.base}
  clientId: ${o.base}-service
  keepaliveS: 5
  outbox: { path: ${join(dir, 'outbox.sqlite')}, drainTimeoutMs: ${o.drainTimeoutMs} }
  commands: { enabled: false }
history: { path: ${join(dir, 'history.sqlite')} }
snapshots: { enabled: false }
dashboard: { enabled: false }
log: { level: info, pretty: never }
`,
  );
  return file;
}

class ServiceRun {
  readonly proc: ChildProcess;
  readonly exited: Promise<number | null>;
  out = '';

  constructor(config: string) {
    this.proc = spawn(process.execPath, [CLI, 'run', '--config', config], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(this.proc);
    this.proc.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.proc.stderr!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.exited = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)));
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async exit(timeoutMs: number): Promise<number | null> {
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
    const code = await Promise.race([this.exited, timer]);
    if (code === 'timeout') throw new Error(`the service did not end within ${timeoutMs} ms:\n${this.out}`);
    return code;
  }
}

/** What the service's own files say was accepted: the outbox counter and rows, the history's ids. */
function accepted(dir: string): { counter: number; waiting: string[]; history: string[] } {
  const outbox = new Database(join(dir, 'outbox.sqlite'), { readonly: true });
  const history = new Database(join(dir, 'history.sqlite'), { readonly: true });
  try {
    const row = outbox.prepare("SELECT value FROM counters WHERE name = 'accepted'").get() as
      { value: number } | undefined;
    return {
      counter: row?.value ?? 0,
      waiting: (
        outbox.prepare('SELECT event_id FROM outbox ORDER BY seq').all() as { event_id: string }[]
      ).map((r) => r.event_id),
      history: (history.prepare('SELECT id FROM events ORDER BY id').all() as { id: string }[]).map(
        (r) => r.id,
      ),
    };
  } finally {
    outbox.close();
    history.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(
  what: string,
  pred: () => boolean,
  timeoutMs: number,
  diag: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${diag()}`);
    await sleep(50);
  }
}

async function setup(t: { after: (fn: () => void) => void }, name: string) {
  const dir = join(work, name);
  mkdirSync(dir);
  const broker: Mosquitto = persistentBroker(t);
  await broker.start();
  t.after(() => void broker.stop());
  const sub = new OutsideSubscriber(broker.port, name, `${name}-outside-check`);
  t.after(() => sub.stop());
  await sub.start();
  return { dir, broker, sub };
}

test(
  'a finite folder run with the broker restarted 5 times: an outside subscriber gets N of N events, exit code 0',
  { timeout: 300_000 },
  async (t) => {
    const { dir, broker, sub } = await setup(t, 'restarts');
    const svc = new ServiceRun(
      writeConfig(dir, {
        url: broker.url,
        base: 'restarts',
        frames: folder(dir, 60),
        drainTimeoutMs: 60_000,
      }),
    );
    await until(
      'the first event at the outside subscriber',
      () => sub.arrivals.length > 0,
      120_000,
      () => svc.out,
    );
    const restarts = 5;
    for (let i = 0; i < restarts; i++) {
      await sleep(1500);
      assert.ok(
        svc.running,
        `the run ended before broker restart ${i + 1}: make the folder longer\n${svc.out}`,
      );
      await broker.stop();
      await sleep(800); // events keep being accepted into the outbox meanwhile
      await broker.start();
    }
    const code = await svc.exit(180_000);
    const acc = accepted(dir);
    const missing = await sub.waitFor(acc.history, 20_000);
    t.diagnostic(
      `broker restarts ${restarts}; accepted ${acc.counter}, in history ${acc.history.length}, ` +
        `distinct at the outside subscriber ${sub.ids().size}, received ${sub.arrivals.length}, exit ${code}`,
    );
    assert.equal(code, 0, svc.out);
    assert.ok(acc.counter >= 40, `too few events to prove anything (${acc.counter})`);
    assert.equal(acc.history.length, acc.counter, 'every accepted event is in the history');
    assert.deepEqual(missing, [], 'every accepted event reached the outside subscriber');
    assert.equal(sub.ids().size, acc.counter, 'N of N');
    assert.deepEqual(acc.waiting, [], 'nothing left in the outbox');
    assert.equal(sub.outOfOrder(), 0, 'order per camera');
    assert.match(svc.out, /every accepted document was delivered/);
  },
);

test(
  'broker down when the folder ends: exit code 3, the log says how many stay on disk, the next run delivers them first',
  { timeout: 300_000 },
  async (t) => {
    const { dir, broker, sub } = await setup(t, 'down');
    const frames = folder(dir, 24);
    const first = new ServiceRun(
      writeConfig(dir, { url: broker.url, base: 'down', frames, drainTimeoutMs: 1500 }),
    );
    await until(
      'the first event at the outside subscriber',
      () => sub.arrivals.length > 0,
      120_000,
      () => first.out,
    );
    await broker.stop();
    const code = await first.exit(120_000);
    const told =
      /"msg":"(\d+) accepted events\/results were not delivered to the broker: they stay in ([^ ]+)/.exec(
        first.out,
      );
    const left = accepted(dir);
    t.diagnostic(
      `first run: exit ${code}, log says ${told?.[1]} remain, outbox holds ${left.waiting.length}`,
    );
    assert.equal(code, 3, first.out);
    assert.ok(told, `no log line counting the undelivered events:\n${first.out}`);
    assert.equal(Number(told[1]), left.waiting.length, 'the log counts what stays in the outbox');
    assert.equal(told[2], join(dir, 'outbox.sqlite'));
    assert.ok(left.waiting.length > 0);

    await broker.start();
    const from = sub.arrivals.length;
    const second = new ServiceRun(
      writeConfig(dir, { url: broker.url, base: 'down', frames, drainTimeoutMs: 60_000 }),
    );
    assert.equal(await second.exit(180_000), 0, second.out);
    const all = accepted(dir);
    assert.deepEqual(await sub.waitFor(all.history, 20_000), [], 'every accepted event arrived');
    assert.equal(sub.ids().size, all.counter, 'N of N over both runs');
    // the second run: the leftovers first, then its own events
    const leftover = new Set(left.waiting);
    const seenBefore = new Set(sub.arrivals.slice(0, from).map((a) => a.id));
    const fresh = sub.arrivals.slice(from).filter((a) => !seenBefore.has(a.id));
    const lastLeftover = fresh.map((a) => leftover.has(a.id)).lastIndexOf(true);
    const firstNew = fresh.findIndex((a) => !leftover.has(a.id));
    t.diagnostic(
      `second run: ${fresh.length} first arrivals, leftovers up to #${lastLeftover}, new from #${firstNew}`,
    );
    assert.ok(firstNew > lastLeftover, 'the events left by the first run are delivered before any new one');
    assert.equal(sub.outOfOrder(), 0, 'order per camera');
  },
);

test(
  'the service SIGKILLed mid-run and started again: 0 accepted events lost, order per camera kept',
  { timeout: 300_000 },
  async (t) => {
    const { dir, broker, sub } = await setup(t, 'killed');
    const frames = folder(dir, 40);
    const config = writeConfig(dir, { url: broker.url, base: 'killed', frames, drainTimeoutMs: 60_000 });
    const first = new ServiceRun(config);
    await until(
      'the first events at the outside subscriber',
      () => sub.arrivals.length >= 4,
      120_000,
      () => first.out,
    );
    // the broker goes away for a moment so that accepted events wait in the outbox at the kill
    await broker.stop();
    const before = accepted(dir).counter;
    await until(
      'events accepted while the broker is down',
      () => accepted(dir).counter >= before + 3,
      60_000,
      () => first.out,
    );
    assert.ok(first.running, 'killed mid-run');
    first.proc.kill('SIGKILL');
    await first.exited;
    const atKill = accepted(dir);
    await broker.start();
    const second = new ServiceRun(config);
    assert.equal(await second.exit(180_000), 0, second.out);
    const all = accepted(dir);
    const missing = await sub.waitFor(all.history, 20_000);
    t.diagnostic(
      `at the kill: accepted ${atKill.counter}, waiting in the outbox ${atKill.waiting.length}; ` +
        `after the restart: accepted ${all.counter}, distinct at the outside subscriber ${sub.ids().size}`,
    );
    assert.ok(atKill.waiting.length > 0, 'events were waiting in the outbox at the kill');
    assert.deepEqual(missing, [], 'no accepted event lost');
    assert.deepEqual(await sub.waitFor(atKill.waiting, 1000), [], 'the events waiting at the kill arrived');
    assert.equal(sub.ids().size, all.counter, 'N of N over both runs');
    assert.equal(sub.outOfOrder(), 0, 'order per camera');
  },
);

test(
  'SIGTERM while the broker is down: the stop waits mqtt.outbox.drainTimeoutMs, then exit code 3 and the count on disk',
  { timeout: 300_000 },
  async (t) => {
    const { dir, broker, sub } = await setup(t, 'sigterm');
    const frames = folder(dir, 8);
    const svc = new ServiceRun(
      writeConfig(dir, { url: broker.url, base: 'sigterm', frames, drainTimeoutMs: 1500, loop: true }),
    );
    await until(
      'the first event at the outside subscriber',
      () => sub.arrivals.length > 0,
      120_000,
      () => svc.out,
    );
    await broker.stop();
    const before = accepted(dir).counter;
    await until(
      'events accepted while the broker is down',
      () => accepted(dir).counter >= before + 2,
      60_000,
      () => svc.out,
    );
    svc.proc.kill('SIGTERM');
    const code = await svc.exit(60_000);
    const told = /"msg":"(\d+) accepted events\/results were not delivered to the broker/.exec(svc.out);
    const left = accepted(dir);
    t.diagnostic(
      `SIGTERM with the broker down: exit ${code}, log says ${told?.[1]} remain, outbox holds ${left.waiting.length}`,
    );
    assert.equal(code, 3, svc.out);
    assert.match(svc.out, /waiting for the broker to acknowledge the outbox/);
    assert.ok(told, svc.out);
    assert.equal(Number(told[1]), left.waiting.length);
    assert.ok(left.waiting.length >= 2);
  },
);
