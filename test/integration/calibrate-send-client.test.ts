// `calibrate --send --client-id`: the thresholds go as an identified client, on its own request and
// response topics, so a per-client rule of mqtt.commands applies to our own tool: with set-thresholds
// allowed only for "calibrator", the identified send is taken and one without --client-id refused.
// Both publish under their own client id (what the shipped broker ACLs require): never a request
// without one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { sendThresholds } from '../../src/calibration/send.js';
import { mqttSchema } from '../../src/config/schema.js';
import { MqttLink } from '../../src/mqtt/mqtt-link.js';
import { Mosquitto } from '../helpers/mosquitto.js';

test('an identified calibrate --send is judged by its client rule', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'calib-send-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const broker = new Mosquitto();
  await broker.start();
  t.after(() => broker.stop());
  const link = new MqttLink(
    mqttSchema.parse({
      url: broker.url,
      baseTopic: 'cal',
      outbox: { path: join(dir, 'outbox.sqlite') },
      commands: { allow: ['status'], clients: [{ clientId: 'calibrator', allow: ['set-thresholds'] }] },
    }),
    pino({ level: 'silent' }),
    { cameraIds: ['cam1'] },
  );
  const origins: unknown[] = [];
  link.onCommand({
    setThresholds: (_cam, thresholds, _calibration, origin) => {
      origins.push(origin);
      return { thresholds };
    },
  });
  await link.start();
  t.after(() => link.stop().then(() => undefined));
  const spy = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  t.after(() => spy.endAsync());
  const requests: string[] = [];
  spy.on('message', (topic) => requests.push(topic));
  await spy.subscribeAsync('cal/request/#', { qos: 1 });
  const send = (requester?: string) =>
    sendThresholds({
      url: broker.url,
      baseTopic: 'cal',
      cameraId: 'cam1',
      thresholds: { image: 0.6, clear: 0.55, pixel: 0.5 },
      calibration: { at: new Date().toISOString(), images: 50, rule: 'test', targetFpr: 0.01 },
      requester,
      timeoutMs: 15_000,
    });
  assert.deepEqual(await send('calibrator'), { thresholds: { image: 0.6, clear: 0.55, pixel: 0.5 } });
  assert.deepEqual(origins, [{ door: 'mqtt', clientId: 'calibrator' }]);
  await assert.rejects(
    send(),
    /the service refused the thresholds: "set-thresholds" is not allowed over MQTT \(mqtt\.commands\.allow\)/,
  );
  assert.equal(origins.length, 1);
  for (let waited = 0; requests.length < 2 && waited < 5000; waited += 20)
    await new Promise((r) => setTimeout(r, 20));
  assert.equal(requests.length, 2, requests.join(' '));
  assert.equal(requests[0], 'cal/request/set-thresholds/calibrator');
  assert.match(requests[1], /^cal\/request\/set-thresholds\/adaclip-edge-calibrate-[0-9a-f]{8}$/);
});
