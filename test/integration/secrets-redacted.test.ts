// Secrets never printed, checked from outside on the real commands: `adaclip-edge doctor` and
// `adaclip-edge run` are given a broker URL with user:password@ (a Mosquitto that needs that
// password), an RTSP camera URI with credentials and a GStreamer pipeline with user-pw=; everything
// they print (stdout, stderr, debug logs, pretty and JSON), everything they publish over MQTT and
// the dashboard's status are searched for each password. The masked forms must be there, so the
// search looks where the secrets would have been.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { ROOT } from '../helpers/fixtures.js';
import { Mosquitto, freePort } from '../helpers/mosquitto.js';
import { makeReadableByMosquitto } from '../helpers/pki.js';
import { requireCommand, requireDemoBundle } from '../helpers/require-tools.js';

const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const BUNDLE = join(ROOT, 'models', 'bundles', 'demo-untrained');
const BROKER_PW = 'BrokerPw-3f9a1';
const CAMERA_PW = 'CamPw-77c2e';
const GST_PW = 'GstPw-a41d0';
const SECRETS = [BROKER_PW, CAMERA_PW, GST_PW];
const children: ChildProcess[] = [];
after(() => children.forEach((c) => c.kill('SIGKILL')));

function assertNoSecret(where: string, text: string): void {
  for (const s of SECRETS)
    assert.ok(!text.includes(s), `${where} shows the password ${s}:\n${text.slice(0, 4000)}`);
}

function cameras(closedPort: number): string {
  return `
  - id: rtsp-cam
    className: screw
    source:
      kind: videocapture
      uri: "rtsp://admin:${CAMERA_PW}@127.0.0.1:${closedPort}/stream1"
      api: ffmpeg
      reconnect: { initialMs: 200, maxMs: 400 }
  - id: gst-cam
    className: screw
    source:
      kind: videocapture
      uri: "rtspsrc location=rtsp://127.0.0.1:${closedPort}/s2 user-id=admin user-pw=${GST_PW} ! decodebin ! videoconvert ! appsink"
      api: gstreamer
      reconnect: { initialMs: 200, maxMs: 400 }`;
}

test('doctor shows the broker and both cameras without their passwords', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'secrets-doctor-'));
  const closed = await freePort();
  const file = join(dir, 'cfg.yaml');
  writeFileSync(
    file,
    `model: { bundle: ${BUNDLE} }
cameras:${cameras(closed)}
mqtt:
  url: "mqtt://edge:${BROKER_PW}@127.0.0.1:${closed}"
`,
  );
  const r = spawnSync(process.execPath, [CLI, 'doctor', '--config', file], { cwd: ROOT, encoding: 'utf8' });
  const out = r.stdout + r.stderr;
  assertNoSecret('doctor', out);
  assert.match(out, new RegExp(`rtsp://\\*\\*\\*@127\\.0\\.0\\.1:${closed}/stream1`), out);
  assert.match(out, /user-pw=\*\*\*/, out);
  assert.match(out, /broker\s+127\.0\.0\.1:\d+ unreachable/, out);
});

test('run: logs, MQTT topics and the dashboard status carry no password', { timeout: 180_000 }, async () => {
  requireDemoBundle(BUNDLE);
  requireCommand('mosquitto_passwd', 'mosquitto');
  const dir = mkdtempSync(join(tmpdir(), 'secrets-run-'));
  execFileSync('mosquitto_passwd', ['-b', '-c', join(dir, 'passwd'), 'edge', BROKER_PW]);
  makeReadableByMosquitto(dir); // the broker runs as its own user
  const port = await freePort();
  const broker = new Mosquitto({
    port,
    listenerConfig: [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      `password_file ${join(dir, 'passwd')}`,
    ],
  });
  await broker.start();
  after(() => broker.stop());
  const closed = await freePort();
  const httpPort = await freePort();
  const cfg = join(dir, 'cfg.yaml');
  writeFileSync(
    cfg,
    `model: { bundle: ${BUNDLE}, engine: { backend: onnxruntime } }
cameras:
  - id: line-cam
    className: screw
    source: { kind: synthetic, width: 160, height: 120, fps: 2, seed: 3 }${cameras(closed)}
mqtt:
  url: "mqtt://edge:${BROKER_PW}@127.0.0.1:${port}"
  baseTopic: sec
  outbox: { path: ${join(dir, 'outbox.sqlite')} }
  sparkplug: { enabled: true, groupId: sec, edgeNodeId: edge1, bdSeqFile: ${join(dir, 'bdseq.json')} }
snapshots: { dir: ${join(dir, 'snaps')} }
dashboard: { port: ${httpPort} }
log: { level: debug, pretty: never }
`,
  );
  const seen: string[] = [];
  const sub = await mqtt.connectAsync(broker.url, {
    username: 'edge',
    password: BROKER_PW,
    reconnectPeriod: 0,
  });
  sub.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString('latin1')}`));
  await sub.subscribeAsync(['sec/#', 'spBv1.0/sec/#'], { qos: 1 });
  after(() => sub.endAsync());

  let out = '';
  const svc = spawn(process.execPath, [CLI, 'run', '--config', cfg], { cwd: ROOT });
  children.push(svc);
  svc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  svc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const waitFor = async (what: string, ok: () => boolean): Promise<void> => {
    const end = Date.now() + 90_000;
    while (!ok()) {
      if (Date.now() > end || svc.exitCode !== null) throw new Error(`no ${what}:\n${out.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  // connected with the password (so it was used), both cameras failed at least twice (so their
  // errors were logged and published), Sparkplug born
  await waitFor('availability online', () => seen.includes('sec/availability online'));
  await waitFor(
    'rtsp-cam reconnecting',
    () => seen.filter((m) => m.startsWith('sec/rtsp-cam/state')).length >= 2,
  );
  await waitFor(
    'gst-cam reconnecting',
    () => seen.filter((m) => m.startsWith('sec/gst-cam/state')).length >= 2,
  );
  await waitFor('NBIRTH', () => seen.some((m) => m.startsWith('spBv1.0/sec/NBIRTH/edge1')));
  const status = await (await fetch(`http://127.0.0.1:${httpPort}/api/status`)).text();
  svc.kill('SIGTERM');
  await new Promise((r) => svc.once('exit', r));

  assertNoSecret('the service log', out);
  assertNoSecret('the MQTT messages', seen.join('\n'));
  assertNoSecret('GET /api/status', status);
  // the masked forms are where the secrets would have been
  assert.match(out, /mqtt:\/\/\*\*\*@127\.0\.0\.1/, 'the broker URL is logged, masked');
  assert.match(out, /rtsp:\/\/\*\*\*@127\.0\.0\.1/, 'the camera URI is logged, masked');
  assert.match(out, /user-pw=\*\*\*/, 'the pipeline is logged, masked');
  assert.match(status, /mqtt:\/\/\*\*\*@127\.0\.0\.1/, 'the status shows the broker, masked');
});

test('the pretty (terminal) log masks secrets too', () => {
  const script = `
    import { createLogger } from ${JSON.stringify(new URL(`file://${join(ROOT, 'dist/src/util/log.js')}`).href)};
    const log = createLogger({ pretty: 'always', level: 'info' });
    log.info({ url: 'mqtt://edge:${BROKER_PW}@broker:1883' }, 'connecting');
    log.error({ err: new Error('cannot open rtsp://admin:${CAMERA_PW}@cam/s1') }, 'camera failed');
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  const out = r.stdout + r.stderr;
  assert.equal(r.status, 0, out);
  assertNoSecret('the pretty log', out);
  assert.match(out, /mqtt:\/\/\*\*\*@broker:1883/, out);
  assert.match(out, /rtsp:\/\/\*\*\*@cam\/s1/, out);
});
