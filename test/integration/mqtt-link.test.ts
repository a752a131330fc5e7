// The MQTT façade against real brokers: the embedded aedes broker and a Mosquitto the test spawns.
// Subscribers are independent clients (mqtt.js and mosquitto_sub).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { mqttSchema, type MqttConfig } from '../../src/config/schema.js';
import { MqttLink } from '../../src/mqtt/mqtt-link.js';
import { Mosquitto } from '../helpers/mosquitto.js';

const logger = pino({ level: process.env.TEST_LOG ?? 'silent' });

function config(over: Record<string, unknown>, dir: string): MqttConfig {
  return mqttSchema.parse({ baseTopic: 'it', outbox: { path: join(dir, 'outbox.sqlite') }, ...over });
}

/** Cleanups run last-registered first (node:test runs t.after hooks in registration order). */
function cleanups(t: { after: (fn: () => Promise<void>) => void }) {
  const stack: (() => unknown)[] = [];
  t.after(async () => {
    for (const fn of stack.reverse()) await fn();
  });
  return (fn: () => unknown) => stack.push(fn);
}

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mqtt-it-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Collects messages on a filter with an independent mqtt.js client. */
async function collector(url: string, filter: string, protocolVersion: 4 | 5 = 5) {
  const client = await mqtt.connectAsync(url, {
    protocolVersion,
    clientId: `collector-${process.pid}-${Math.random()}`,
    reconnectPeriod: 100,
  });
  const messages: { topic: string; payload: Buffer; packet: mqtt.IPublishPacket }[] = [];
  client.on('message', (topic, payload, packet) => messages.push({ topic, payload, packet }));
  await client.subscribeAsync(filter, { qos: 1 });
  const waitFor = async (
    pred: (m: (typeof messages)[number]) => boolean,
    what: string,
    timeoutMs = 10_000,
  ) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = messages.find(pred);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`timed out waiting for ${what}; got ${messages.map((m) => m.topic).join(', ')}`);
  };
  return { client, messages, waitFor };
}

test('with no mqtt.url an embedded broker starts and events, state and availability arrive', async (t) => {
  const dir = tempDir(t);
  const defer = cleanups(t);
  const svc = new MqttLink(config({ embedded: { host: '127.0.0.1', port: 0 } }, dir), logger);
  const triggers: string[] = [];
  svc.subscribe('plc/+/trigger', (payload, topic) => triggers.push(`${topic} ${payload.toString()}`));
  await svc.start();
  defer(() => svc.stop());
  const url = svc.brokerUrl!;
  assert.match(url, /^mqtt:\/\/127\.0\.0\.1:\d+$/);
  const sub = await collector(url, 'it/#', 4);
  defer(() => sub.client.end(true));

  await sub.waitFor(
    (m) => m.topic === 'it/availability' && m.payload.toString() === 'online',
    'availability online',
  );
  await svc.publishEvent({ id: '01JEVENT0000000000000000001', cameraId: 'cam-1', version: 1, score: 0.9 });
  const ev = await sub.waitFor((m) => m.topic === 'it/cam-1/event', 'the event');
  assert.deepEqual(JSON.parse(ev.payload.toString()), {
    id: '01JEVENT0000000000000000001',
    cameraId: 'cam-1',
    version: 1,
    score: 0.9,
  });
  assert.equal(ev.packet.qos, 1);

  await svc.publishState('cam-1', { status: 'online', className: 'screw', lastScore: 0.2 });
  const st = await sub.waitFor((m) => m.topic === 'it/cam-1/state', 'camera state');
  assert.equal(JSON.parse(st.payload.toString()).status, 'online');

  // subscriptions for other topics (trigger cameras) reach their handler
  await sub.client.publishAsync('plc/line-1/trigger', 'part-42', { qos: 1 });
  for (let i = 0; i < 200 && triggers.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(triggers, ['plc/line-1/trigger part-42']);

  // a late subscriber sees the retained availability and state
  const late = await collector(url, 'it/+/state', 4);
  defer(() => late.client.end(true));
  const retained = await late.waitFor((m) => m.topic === 'it/cam-1/state', 'retained state');
  assert.equal(retained.packet.retain, true);
});

test('events reach mosquitto_sub on an external Mosquitto over MQTT 5 with content type, and stop says offline', async (t) => {
  const dir = tempDir(t);
  const defer = cleanups(t);
  const broker = new Mosquitto();
  await broker.start();
  defer(() => broker.stop());
  const sub = spawn('mosquitto_sub', [
    '-h',
    '127.0.0.1',
    '-p',
    String(broker.port),
    '-V',
    'mqttv5',
    '-q',
    '1',
    '-v',
    '-t',
    'it/+/event',
    '-F',
    '%t %C %p',
  ]);
  let out = '';
  sub.stdout.on('data', (d: Buffer) => (out += d.toString()));
  defer(() => sub.kill());
  const watcher = await collector(broker.url, 'it/availability');
  defer(() => watcher.client.end(true));
  await new Promise((r) => setTimeout(r, 300)); // mosquitto_sub has subscribed

  const svc = new MqttLink(config({ url: broker.url, protocolVersion: 5 }, dir), logger);
  await svc.start();
  for (let i = 0; i < 3; i++) await svc.publishEvent({ id: `evt-${i}`, cameraId: 'cam-2', version: 1 });
  const deadline = Date.now() + 10_000;
  while (out.trim().split('\n').length < 3 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  const lines = out.trim().split('\n');
  assert.equal(lines.length, 3, out);
  lines.forEach((line, i) => {
    const [topic, contentType, ...rest] = line.split(' ');
    assert.equal(topic, 'it/cam-2/event');
    assert.equal(contentType, 'application/json');
    assert.equal(JSON.parse(rest.join(' ')).id, `evt-${i}`);
  });
  await watcher.waitFor((m) => m.payload.toString() === 'online', 'online');
  watcher.messages.length = 0;
  await svc.stop();
  await watcher.waitFor((m) => m.payload.toString() === 'offline', 'offline after stop');
  assert.equal(svc.getStats().outbox.pending, 0);
});

test('commands over MQTT 5: response topic and correlation data, malformed and unauthorised requests change nothing', async (t) => {
  const dir = tempDir(t);
  const defer = cleanups(t);
  const broker = new Mosquitto();
  await broker.start();
  defer(() => broker.stop());
  const svc = new MqttLink(
    config({ url: broker.url, commands: { allow: ['set-class', 'status'], maxPayloadBytes: 512 } }, dir),
    logger,
    { cameraIds: ['cam-1'] },
  );
  const classes: Record<string, string> = { 'cam-1': 'screw' };
  svc.onCommand({
    setClass: (cam, name) => {
      classes[cam] = name;
      return { camera: cam, className: name };
    },
    trigger: () => assert.fail('trigger is not in the allow-list'),
    status: () => ({ classes }),
  });
  await svc.start();
  defer(() => svc.stop());
  const requester = await collector(broker.url, 'it/response/#');
  defer(() => requester.client.end(true));
  const replies = await collector(broker.url, 'it/response/client-7/replies');
  defer(() => replies.client.end(true));
  // the service has subscribed once a status request is answered
  const ping = async () => {
    await requester.client.publishAsync('it/request/status', JSON.stringify({ transactionId: 'ping' }), {
      qos: 1,
    });
    return requester.waitFor((m) => m.topic === 'it/response/status', 'status response', 2000);
  };
  for (let i = 0; ; i++) {
    try {
      await ping();
      break;
    } catch (err) {
      if (i > 10) throw err;
    }
  }

  const ask = async (command: string, payload: string | Buffer, tid: string) => {
    await requester.client.publishAsync(`it/request/${command}`, payload, { qos: 1 });
    const m = await requester.waitFor(
      (x) => x.topic === `it/response/${command}` && JSON.parse(x.payload.toString()).transactionId === tid,
      `${command} ${tid}`,
    );
    return JSON.parse(m.payload.toString());
  };
  const bad = [
    await ask('set-class', JSON.stringify({ transactionId: 'b1', camera: 'cam-1', className: 42 }), 'b1'),
    await ask('set-class', JSON.stringify({ transactionId: 'b2', camera: 'nope', className: 'nut' }), 'b2'),
    await ask('trigger', JSON.stringify({ transactionId: 'b3', camera: 'cam-1' }), 'b3'),
  ];
  for (const r of bad) assert.equal(r.ok, false, JSON.stringify(r));
  assert.match(bad[2].error, /not allowed/);
  // an oversized or unparsable request is not read, so its error response has no transaction id
  requester.messages.length = 0;
  const big = JSON.stringify({ transactionId: 'b4', camera: 'cam-1', className: 'x'.repeat(600) });
  await requester.client.publishAsync('it/request/set-class', big, { qos: 1 });
  const bigReply = await requester.waitFor(
    (x) => x.topic === 'it/response/set-class',
    'oversized request response',
  );
  assert.match(
    JSON.parse(bigReply.payload.toString()).error,
    /exceeds mqtt\.commands\.maxPayloadBytes \(512\)/,
  );
  requester.messages.length = 0;
  await requester.client.publishAsync('it/request/set-class', '{"transactionId": "b5", ', { qos: 1 });
  const noTid = await requester.waitFor((x) => x.topic === 'it/response/set-class', 'bad JSON response');
  assert.match(JSON.parse(noTid.payload.toString()).error, /not JSON/);
  assert.deepEqual(classes, { 'cam-1': 'screw' }, 'nothing changed');

  const good = await ask(
    'set-class',
    JSON.stringify({ transactionId: 'g1', camera: 'cam-1', className: 'nut' }),
    'g1',
  );
  assert.deepEqual(good, {
    ok: true,
    command: 'set-class',
    transactionId: 'g1',
    result: { camera: 'cam-1', className: 'nut' },
  });
  assert.deepEqual(classes, { 'cam-1': 'nut' });

  // MQTT 5 request/response: answered on the response topic with the correlation data
  const corr = Buffer.from('corr-123');
  await replies.client.publishAsync('it/request/status', '{}', {
    qos: 1,
    properties: { responseTopic: 'it/response/client-7/replies', correlationData: corr },
  });
  const reply = await replies.waitFor((m) => m.topic === 'it/response/client-7/replies', 'MQTT 5 reply');
  assert.deepEqual(reply.packet.properties?.correlationData, corr);
  assert.equal(reply.packet.properties?.contentType, 'application/json');
  assert.deepEqual(JSON.parse(reply.payload.toString()), {
    ok: true,
    command: 'status',
    result: { classes: { 'cam-1': 'nut' } },
  });
});

test('a flood of garbage requests does not stop the service from publishing events', async (t) => {
  const dir = tempDir(t);
  const defer = cleanups(t);
  const broker = new Mosquitto();
  await broker.start();
  defer(() => broker.stop());
  const svc = new MqttLink(config({ url: broker.url }, dir), logger);
  await svc.start();
  defer(() => svc.stop());
  const sub = await collector(broker.url, 'it/+/event');
  defer(() => sub.client.end(true));
  const flooder = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  defer(() => flooder.end(true));
  for (let i = 0; i < 2000; i++) {
    const payload =
      i % 3 === 0
        ? Buffer.from([0xff, 0xfe, i & 0xff])
        : i % 3 === 1
          ? Buffer.alloc(10_000, 0x7b)
          : Buffer.from('{"a":');
    flooder.publish(`it/request/${i % 2 ? 'set-class' : 'x'.repeat(i % 100)}`, payload, { qos: 0 });
  }
  await svc.publishEvent({ id: 'after-flood', cameraId: 'cam-1', version: 1 });
  const ev = await sub.waitFor((m) => m.topic === 'it/cam-1/event', 'event after flood');
  assert.equal(JSON.parse(ev.payload.toString()).id, 'after-flood');
  assert.equal(svc.connectionState, 'connected');
  const c = svc.getStats().commands;
  assert.equal(c.ok, 0);
  assert.ok(c.errors + c.dropped > 0);
});
