// The service's MQTT wiring on a real Mosquitto: a PLC trigger message captures a frame whose event
// carries the part id; request/response commands change thresholds and class at run time (and the
// retained state shows it); malformed or unknown commands get error responses and change nothing; a
// Sparkplug B DCMD write changes the same settings (one path for every door).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { Mosquitto, freePort } from '../helpers/mosquitto.js';
import { ROOT } from '../helpers/fixtures.js';
import { requireDemoBundle } from '../helpers/require-tools.js';
import { DT, encodeSparkplug } from './sparkplug-proto.js';

const BUNDLE = join(ROOT, 'models', 'bundles', 'demo-untrained');
const children: ChildProcess[] = [];
after(() => children.forEach((c) => c.kill('SIGKILL')));

test('triggers and commands over MQTT drive the running service', { timeout: 180_000 }, async () => {
  requireDemoBundle(BUNDLE);
  const broker = new Mosquitto();
  await broker.start();
  const dir = mkdtempSync(join(tmpdir(), 'svc-mqtt-'));
  const cfg = join(dir, 'cfg.yaml');
  writeFileSync(
    cfg,
    `model: { bundle: ${BUNDLE}, engine: { backend: onnxruntime } }
cameras:
  - id: press
    className: screw
    source:
      kind: trigger
      mqttTopic: plc/press/part-present
      inner: { kind: synthetic, width: 320, height: 240, fps: 10, seed: 2 }
    thresholds: { image: 0.0, pixel: 0.99 }
mqtt:
  url: "${broker.url}"
  baseTopic: plant
  outbox: { path: ${join(dir, 'outbox.sqlite')} }
  sparkplug: { enabled: true, groupId: svc, edgeNodeId: edge1, bdSeqFile: ${join(dir, 'bdseq.json')} }
snapshots: { dir: ${join(dir, 'snaps')} }
dashboard: { port: ${await freePort()} }
log: { pretty: never }
`,
  );
  const client = mqtt.connect(broker.url, { protocolVersion: 5 });
  const messages: { topic: string; payload: string }[] = [];
  client.on('message', (topic, payload) => messages.push({ topic, payload: payload.toString() }));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () =>
      client.subscribe(['plant/#', 'spBv1.0/svc/#'], { qos: 1 }, (e) => (e ? reject(e) : resolve())),
    );
    client.once('error', reject);
  });
  let out = '';
  const svc = spawn(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), 'run', '--config', cfg], {
    cwd: ROOT,
  });
  children.push(svc);
  svc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  svc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const waitFor = async <T>(what: string, fn: () => T | undefined, ms = 60_000): Promise<T> => {
    const end = Date.now() + ms;
    for (;;) {
      const v = fn();
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const last = (topic: string) => [...messages].reverse().find((m) => m.topic === topic);
  try {
    await waitFor('the service online', () =>
      last('plant/availability')?.payload === 'online' ? true : undefined,
    );
    await waitFor('the camera state', () => last('plant/press/state'));
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(
      messages.filter((m) => m.topic === 'plant/press/event').length,
      0,
      'no frame without a trigger',
    );

    client.publish('plc/press/part-present', JSON.stringify({ partId: 'PART-42' }), { qos: 1 });
    const ev = await waitFor('the triggered event', () => last('plant/press/event'));
    const doc = JSON.parse(ev.payload) as { partId?: string; triggerId?: string; cameraId: string };
    assert.equal(doc.cameraId, 'press');
    assert.equal(doc.partId, 'PART-42');
    assert.equal(typeof doc.triggerId, 'string');

    const request = (cmd: string, body: unknown) =>
      client.publish(`plant/request/${cmd}`, typeof body === 'string' ? body : JSON.stringify(body), {
        qos: 1,
      });
    const response = (cmd: string, tx: string) =>
      waitFor(`response ${tx}`, () => {
        const m = messages.find((x) => x.topic === `plant/response/${cmd}` && x.payload.includes(`"${tx}"`));
        return m ? (JSON.parse(m.payload) as { ok: boolean; error?: string; result?: unknown }) : undefined;
      });

    request('set-thresholds', { transactionId: 't1', camera: 'press', thresholds: { image: 0.9 } });
    const r1 = await response('set-thresholds', 't1');
    assert.equal(r1.ok, true, JSON.stringify(r1));
    await waitFor('state with the new threshold', () =>
      last('plant/press/state')?.payload.includes('"image":0.9') ? true : undefined,
    );

    request('set-thresholds', { transactionId: 't2', camera: 'press', thresholds: { image: 7 } });
    const r2 = await response('set-thresholds', 't2');
    assert.equal(r2.ok, false);
    assert.match(r2.error ?? '', /image/);
    request('set-class', { transactionId: 't3', camera: 'ghost', className: 'nut' });
    assert.equal((await response('set-class', 't3')).ok, false);
    request('set-class', '{"transactionId": "t4", "camera": "press", "className": ');
    const r4 = await waitFor('response to malformed JSON', () =>
      messages.find((x) => x.topic === 'plant/response/set-class' && /JSON/i.test(x.payload)),
    );
    assert.match(r4.payload, /"ok":false/);

    request('set-class', { transactionId: 't5', camera: 'press', className: 'metal nut' });
    assert.equal((await response('set-class', 't5')).ok, true);
    await waitFor('state with the new class', () =>
      last('plant/press/state')?.payload.includes('"metal nut"') ? true : undefined,
    );
    const state = JSON.parse(last('plant/press/state')!.payload) as { thresholds: { image: number } };
    assert.equal(state.thresholds.image, 0.9, 'the refused threshold changed nothing');

    await waitFor('the Sparkplug NBIRTH', () => last('spBv1.0/svc/NBIRTH/edge1'));
    client.publish(
      'spBv1.0/svc/DCMD/edge1/press',
      encodeSparkplug({
        timestamp: Date.now(),
        metrics: [{ name: 'Config/Thresholds/Pixel', datatype: DT.Double, double_value: 0.95 }],
      }),
      { qos: 0 },
    );
    await waitFor('state with the pixel threshold written over Sparkplug', () =>
      last('plant/press/state')?.payload.includes('"pixel":0.95') ? true : undefined,
    );
    const written = JSON.parse(last('plant/press/state')!.payload) as {
      className: string;
      thresholds: { image: number };
    };
    assert.equal(written.className, 'metal nut');
    assert.equal(written.thresholds.image, 0.9);

    request('status', { transactionId: 't6' });
    const r6 = await response('status', 't6');
    assert.equal(r6.ok, true);
    assert.match(JSON.stringify(r6), /metal nut/);
    // docs/mqtt.md: the connection and the outbox's depth
    const st = r6.result as { mqtt: { connected: boolean; outboxDepth?: number } };
    assert.equal(st.mqtt.connected, true);
    assert.equal(typeof st.mqtt.outboxDepth, 'number', JSON.stringify(st.mqtt));
    assert.equal(svc.exitCode, null, 'the service is still running after bad commands');
  } finally {
    svc.kill('SIGTERM');
    await new Promise((r) => svc.once('exit', r));
    client.end(true);
    await broker.stop();
  }
});
