// `adaclip-edge calibrate` end to end with the tiny untrained bundle: bad input refused with the
// reason; --write edits the camera's config (comments kept) and --send changes a running service's
// thresholds (the real service, its embedded broker) whose retained state and dashboard then carry
// the calibration record; thresholds set by hand afterwards drop it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { freePort } from '../helpers/mosquitto.js';
import { ROOT } from '../helpers/fixtures.js';
import { writeMvtecFolder } from '../helpers/mvtec-folder.js';
import { parseConfigText } from '../../src/config/load.js';

const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const BUNDLE = join(ROOT, 'models', 'bundles', 'demo-untrained');
const cli = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, 'calibrate', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
const children: ChildProcess[] = [];
after(() => children.forEach((c) => c.kill('SIGKILL')));

function setup() {
  assert.ok(
    existsSync(join(BUNDLE, 'manifest.json')),
    `demo bundle missing at ${BUNDLE}: run scripts/setup.sh`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'calibrate-'));
  writeMvtecFolder(join(dir, 'data'), { good: 1, defects: { scratch: 1 }, train: 8, seed: 11 });
  return { dir, good: join(dir, 'data', 'train', 'good') };
}

function writeConfig(dir: string, brokerPort: number, dashboardPort: number): string {
  const file = join(dir, 'line.yaml');
  writeFileSync(
    file,
    `# the test line
model: { bundle: ${BUNDLE}, engine: { backend: onnxruntime } }
cameras:
  - id: cam1
    className: screw
    source:
      kind: trigger
      inner: { kind: synthetic, width: 320, height: 240, fps: 10, seed: 2 }
    roi: { x: 10, y: 10, width: 140, height: 100 } # the part only
    thresholds: { image: 0.5, pixel: 0.6 } # before calibration
mqtt: { embedded: { port: ${brokerPort} }, baseTopic: plant, outbox: { path: ${join(dir, 'outbox.sqlite')} } }
snapshots: { dir: ${join(dir, 'snaps')} }
dashboard: { port: ${dashboardPort} }
log: { pretty: never }
`,
  );
  return file;
}

test('calibrate refuses bad input with the reason', { timeout: 300_000 }, () => {
  const { dir, good } = setup();
  const cfg = writeConfig(dir, 1883, 8080);
  const cases: [string[], RegExp][] = [
    [
      ['--good', good, '--bundle', BUNDLE, '--class', 'screw', '--target-fpr', 'abc'],
      /--target-fpr: expected a number between 0 and 1 \(exclusive\), e\.g\. 0\.01, got "abc"/,
    ],
    [
      ['--good', good, '--bundle', BUNDLE, '--class', 'screw', '--target-fpr', '0'],
      /--target-fpr: .* got "0"/,
    ],
    [['--good', good, '--config', cfg, '--camera', 'oven'], /line\.yaml: no camera "oven" \(cameras: cam1\)/],
    [
      ['--good', good, '--bundle', BUNDLE, '--class', 'screw', '--write'],
      /--write needs --config FILE and --camera ID/,
    ],
    [['--good', good, '--class', 'screw'], /no model bundle: give --bundle DIR/],
    [
      ['--good', join(dir, 'nowhere'), '--bundle', BUNDLE, '--class', 'screw'],
      /nowhere: not a folder of good images/,
    ],
  ];
  mkdirSync(join(dir, 'empty'));
  cases.push([
    ['--good', join(dir, 'empty'), '--bundle', BUNDLE, '--class', 'screw'],
    /empty: no images \(png, jpg/,
  ]);
  for (const [args, message] of cases) {
    const r = cli(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  writeFileSync(join(good, '009.png'), 'not a png');
  const r = cli('--good', good, '--bundle', BUNDLE, '--class', 'screw');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /1 problem\n\s+- .*train\/good\/009\.png: not a readable image/);
  assert.equal(r.stdout, '', 'no thresholds from part of the folder');
});

test(
  'calibrate --write edits the config and --send changes the running service',
  { timeout: 300_000 },
  async () => {
    const { dir, good } = setup();
    const brokerPort = await freePort();
    const dashboardPort = await freePort();
    const cfgFile = writeConfig(dir, brokerPort, dashboardPort);
    const svc = spawn(process.execPath, [CLI, 'run', '--config', cfgFile], { cwd: ROOT });
    children.push(svc);
    let log = '';
    svc.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    svc.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    const url = `mqtt://127.0.0.1:${brokerPort}`;
    const waitFor = async <T>(what: string, fn: () => T | undefined, ms = 60_000): Promise<T> => {
      const end = Date.now() + ms;
      for (;;) {
        const v = fn();
        if (v !== undefined) return v;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await waitFor('the service', () =>
      log.includes('"inspecting"') || log.includes('inspecting') ? true : undefined,
    );
    const states: Record<string, unknown>[] = [];
    const client = await mqtt.connectAsync(url, { protocolVersion: 4 });
    client.on('message', (topic, payload) => {
      if (topic === 'plant/cam1/state')
        states.push(JSON.parse(payload.toString()) as Record<string, unknown>);
    });
    await client.subscribeAsync('plant/cam1/state', { qos: 1 });
    try {
      await waitFor('the retained camera state', () => states[0]);

      // the camera's ROI is applied to the good images: other crops, other scores
      const plain = cli('--good', good, '--bundle', BUNDLE, '--class', 'screw', '--json');
      assert.equal(plain.status, 0, plain.stderr);
      const withRoi = cli(
        '--good',
        good,
        '--config',
        cfgFile,
        '--camera',
        'cam1',
        '--write',
        '--send',
        url,
        '--json',
      );
      assert.equal(withRoi.status, 0, withRoi.stderr + log);
      const out = JSON.parse(withRoi.stdout) as {
        thresholds: { image: number; clear: number; pixel: number };
        image: { quantile: number };
        calibration: { images: number; targetFpr: number; rule: string; at: string };
        written: string;
        sent: { thresholds: { image: number; clear: number; pixel: number }; calibration: unknown };
      };
      const plainOut = JSON.parse(plain.stdout) as { image: { quantile: number } };
      assert.notEqual(out.image.quantile, plainOut.image.quantile);
      assert.equal(out.calibration.images, 8);
      assert.equal(out.calibration.targetFpr, 0.01);
      assert.match(withRoi.stderr, /WARNING: only 8 good images/);

      // --write: the config now holds the thresholds and the record; comments stayed
      const text = readFileSync(cfgFile, 'utf8');
      assert.ok(text.includes('# the part only') && text.includes('# the test line'), text);
      const cam = parseConfigText(text, cfgFile, {}).cameras[0];
      assert.deepEqual(
        { image: cam.thresholds.image, clear: cam.thresholds.clear, pixel: cam.thresholds.pixel },
        out.thresholds,
      );
      assert.deepEqual(cam.calibration, out.calibration);

      // --send: the service answered with the thresholds it now uses, and its retained state shows them
      assert.equal(out.sent.thresholds.image, out.thresholds.image);
      assert.equal(out.sent.thresholds.clear, out.thresholds.clear);
      assert.equal(out.sent.thresholds.pixel, out.thresholds.pixel);
      const state = await waitFor('the state with the calibration', () =>
        states.find((s) => (s.calibration as { at?: string } | undefined)?.at === out.calibration.at),
      );
      assert.equal((state.thresholds as { image: number }).image, out.thresholds.image);
      const status = (await (await fetch(`http://127.0.0.1:${dashboardPort}/api/status`)).json()) as {
        cameras: { calibration?: { images: number; rule: string } }[];
      };
      assert.equal(status.cameras[0].calibration?.images, 8);
      assert.equal(status.cameras[0].calibration?.rule, out.calibration.rule);

      // thresholds set by hand are no longer the calibrated ones: the record leaves the state
      const n = states.length;
      await client.publishAsync(
        'plant/request/set-thresholds',
        JSON.stringify({ transactionId: 'hand', camera: 'cam1', thresholds: { image: 0.9, clear: 0.9 } }),
        { qos: 1 },
      );
      const manual = await waitFor('the state after a manual change', () => states.slice(n).find((s) => s));
      assert.equal(manual.calibration, undefined);
      assert.equal((manual.thresholds as { image: number }).image, 0.9);

      // nothing listening: a clear error, exit 1
      const dead = cli(
        '--good',
        good,
        '--bundle',
        BUNDLE,
        '--class',
        'screw',
        '--camera',
        'cam1',
        '--send',
        `mqtt://127.0.0.1:${await freePort()}`,
        '--timeout',
        '5',
      );
      assert.equal(dead.status, 1);
      assert.match(dead.stderr, /calibrate: --send: MQTT mqtt:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    } finally {
      await client.endAsync();
      svc.kill('SIGTERM');
    }
  },
);
