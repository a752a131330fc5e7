// The walking skeleton end to end: `adaclip-edge run` as a child process, a synthetic line, the demo
// bundle, events on a real Mosquitto seen by mosquitto_sub and mqtt.js; then the embedded broker.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, readdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { Mosquitto, freePort } from '../helpers/mosquitto.js';
import { ROOT, FIXTURE } from '../helpers/fixtures.js';
import { requireDemoBundle } from '../helpers/require-tools.js';

const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const BUNDLE = join(ROOT, 'models', 'bundles', 'demo-untrained');

const children: ChildProcess[] = [];
after(() => children.forEach((c) => c.kill('SIGKILL')));

/** A folder of real image files: the official fixture's PNGs. */
function imageFolder(dir: string): string {
  const folder = join(dir, 'images');
  mkdirSync(folder);
  for (const f of readdirSync(join(FIXTURE, 'images')))
    copyFileSync(join(FIXTURE, 'images', f), join(folder, f));
  return folder;
}

function writeConfig(dir: string, mqttSection: string, dashboardPort: number, source?: string): string {
  const file = join(dir, 'cfg.yaml');
  writeFileSync(
    file,
    `site: test-site
line: test-line
model: { bundle: ${BUNDLE}, engine: { backend: onnxruntime, maxBatch: 2 } }
cameras:
  - id: cam1
    className: screw
    source: ${source ?? '{ kind: synthetic, width: 640, height: 480, fps: 8, defectRate: 0.5, seed: 3 }'}
    # threshold 0: every frame of the untrained model counts as anomalous, so events must flow
    thresholds: { image: 0.0, pixel: 0.99 }
${mqttSection}
snapshots: { dir: ${join(dir, 'snapshots')} }
dashboard: { port: ${dashboardPort} }
log: { level: info, pretty: never }
`,
  );
  return file;
}

function startService(
  config: string,
  env: Record<string, string> = {},
): { proc: ChildProcess; output: () => string } {
  const proc = spawn(process.execPath, [CLI, 'run', '--config', config], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return { proc, output: () => out };
}

async function waitFor<T>(
  what: string,
  fn: () => T | undefined,
  timeoutMs: number,
  diag: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}\n--- service output ---\n${diag()}`);
}

async function stopService(proc: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null) return resolve(proc.exitCode);
    proc.once('exit', (code) => resolve(code));
    proc.kill('SIGTERM');
  });
}

test(
  'run publishes events that mosquitto_sub and mqtt.js see on an external Mosquitto',
  { timeout: 120_000 },
  async () => {
    requireDemoBundle(BUNDLE);
    const broker = new Mosquitto();
    await broker.start();
    try {
      const dir = mkdtempSync(join(tmpdir(), 'run-ext-'));
      const sub = spawn('mosquitto_sub', [
        '-h',
        '127.0.0.1',
        '-p',
        String(broker.port),
        '-t',
        'e2e/#',
        '-v',
        '-q',
        '1',
      ]);
      children.push(sub);
      let subOut = '';
      sub.stdout.on('data', (d: Buffer) => (subOut += d.toString()));
      const client = mqtt.connect(broker.url);
      const received: { topic: string; payload: string }[] = [];
      client.on('message', (topic, payload) => received.push({ topic, payload: payload.toString() }));
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () =>
          client.subscribe('e2e/#', { qos: 1 }, (err) => (err ? reject(err) : resolve())),
        );
        client.once('error', reject);
      });
      await new Promise((r) => setTimeout(r, 300));

      const folder = imageFolder(dir);
      const cfg = writeConfig(
        dir,
        `mqtt: { url: "${broker.url}", baseTopic: e2e, outbox: { path: ${join(dir, 'outbox.sqlite')} } }`,
        await freePort(),
        `{ kind: folder, path: ${folder}, loop: true, fps: 4 }`,
      );
      const svc = startService(cfg);
      const event = await waitFor(
        'an event on e2e/cam1/event via mqtt.js',
        () => received.find((m) => m.topic === 'e2e/cam1/event'),
        90_000,
        svc.output,
      );
      const doc = JSON.parse(event.payload) as Record<string, unknown>;
      assert.equal(typeof doc.id, 'string');
      assert.equal(typeof doc.score, 'number');
      assert.ok(JSON.stringify(doc).includes('cam1'));
      assert.ok(JSON.stringify(doc).includes('screw'));
      await waitFor(
        'the same event in mosquitto_sub output',
        () => (subOut.includes(doc.id as string) ? true : undefined),
        10_000,
        () => subOut,
      );
      assert.ok(
        received.some((m) => m.topic === 'e2e/availability' && m.payload === 'online'),
        'availability online',
      );
      assert.equal(await stopService(svc.proc), 0, svc.output());
      client.end(true);
    } finally {
      await broker.stop();
    }
  },
);

test(
  'run starts an embedded broker when no url is configured, and a bad config exits non-zero',
  { timeout: 120_000 },
  async () => {
    requireDemoBundle(BUNDLE);
    const dir = mkdtempSync(join(tmpdir(), 'run-emb-'));
    const port = await freePort();
    const cfg = writeConfig(
      dir,
      `mqtt: { embedded: { port: ${port} }, outbox: { path: ${join(dir, 'outbox.sqlite')} } }`,
      await freePort(),
    );
    const svc = startService(cfg);
    const client = await waitFor(
      'the embedded broker to accept connections',
      () =>
        svc.output().includes('embedded')
          ? mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 200 })
          : undefined,
      60_000,
      svc.output,
    );
    const got = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('no event on the embedded broker\n' + svc.output())),
        90_000,
      );
      client.on('connect', () => client.subscribe('adaclip-edge/cam1/event', { qos: 1 }));
      client.on('message', (_t, p) => {
        clearTimeout(timer);
        resolve(p.toString());
      });
    });
    assert.equal(typeof (JSON.parse(got) as { id: unknown }).id, 'string');
    client.end(true);
    assert.equal(await stopService(svc.proc), 0, svc.output());

    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'model: { bundle: 7 }\ncameras: []\nmqtt: { protocolVersion: 9 }\n');
    const badRun = startService(bad);
    const code = await new Promise<number | null>((r) => badRun.proc.once('exit', r));
    assert.equal(code, 2);
    assert.match(badRun.output(), /model\.bundle/);
    assert.match(badRun.output(), /cameras/);
    assert.match(badRun.output(), /mqtt\.protocolVersion/);
  },
);
