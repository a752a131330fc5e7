// The command router on its own: parsing, validation, authorisation and responses. The responder is
// a capture function standing in for the broker (the integration test covers a real Mosquitto).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { CommandRouter, type CommandHandlers, type CommandResponse } from '../../src/mqtt/commands.js';
import { Topics, type CommandName } from '../../src/mqtt/topics.js';
import { CommandPolicy } from '../../src/operator/command-policy.js';
import { captureLogger } from '../helpers/capture-logger.js';

const logger = pino({ level: 'silent' });
const topics = new Topics('t');

function setup(
  allow: CommandName[] = ['set-class', 'set-thresholds', 'trigger', 'status', 'rebirth'],
  maxPayloadBytes = 256,
) {
  const sent: { topic: string; response: CommandResponse; correlationData?: Buffer }[] = [];
  const calls: unknown[][] = [];
  const router = new CommandRouter(
    topics,
    { allow, maxPayloadBytes, cameraIds: ['cam-1'] },
    async (topic, response, correlationData) => {
      sent.push({ topic, response, correlationData });
    },
    logger,
  );
  const handlers: CommandHandlers = {
    setClass: (cam, name) => {
      calls.push(['setClass', cam, name]);
      return { className: name };
    },
    setThresholds: (cam, th, calibration) => {
      calls.push(calibration ? ['setThresholds', cam, th, calibration] : ['setThresholds', cam, th]);
    },
    trigger: (cam, part) => {
      calls.push(['trigger', cam, part]);
    },
    status: () => ({ cameras: 1 }),
  };
  router.setHandlers(handlers);
  const send = (
    command: string,
    payload: unknown,
    extra: { responseTopic?: string; correlationData?: Buffer } = {},
  ) =>
    router.handleOne({
      topic: topics.request(command),
      payload: Buffer.isBuffer(payload)
        ? payload
        : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)),
      ...extra,
    });
  return { router, sent, calls, send };
}

test('a valid set-class runs its handler and answers ok with the transaction id', async () => {
  const { sent, calls, send } = setup();
  const r = await send('set-class', { transactionId: 'tx-1', camera: 'cam-1', className: 'screw' });
  assert.deepEqual(calls, [['setClass', 'cam-1', 'screw']]);
  assert.equal(sent[0].topic, 't/response/set-class');
  assert.deepEqual(r, {
    ok: true,
    command: 'set-class',
    transactionId: 'tx-1',
    result: { className: 'screw' },
  });
});

test('set-thresholds passes only the given thresholds', async () => {
  const { calls, send } = setup();
  const r = await send('set-thresholds', { transactionId: 7, camera: 'cam-1', thresholds: { image: 0.7 } });
  assert.equal(r.ok, true);
  assert.equal(r.transactionId, 7);
  assert.deepEqual(calls, [['setThresholds', 'cam-1', { image: 0.7 }]]);
});

test('set-thresholds carries a calibration record, validated before the handler runs', async () => {
  const { calls, send, sent } = setup(undefined, 1024);
  const calibration = { at: '2026-12-02T10:00:00.000Z', images: 200, rule: 'p99 + 1 sd', targetFpr: 0.01 };
  const thresholds = { image: 0.7, clear: 0.65, pixel: 0.8 };
  const r = await send('set-thresholds', { transactionId: 'c', camera: 'cam-1', thresholds, calibration });
  assert.equal(r.ok, true, r.error);
  assert.deepEqual(calls, [['setThresholds', 'cam-1', thresholds, calibration]]);
  const bad = await send('set-thresholds', {
    camera: 'cam-1',
    thresholds,
    calibration: { ...calibration, at: 'yesterday', targetFpr: 2 },
  });
  assert.equal(bad.ok, false);
  assert.match(bad.error!, /calibration\.at/);
  assert.match(bad.error!, /calibration\.targetFpr/);
  assert.equal(calls.length, 1, 'the refused request changed nothing');
  assert.equal(sent.length, 2);
});

test('malformed requests get an error naming the problem and change nothing', async () => {
  const { calls, send } = setup();
  const cases: [string, unknown, RegExp][] = [
    ['set-class', '{not json', /not JSON/],
    ['set-class', '[1,2]', /JSON object/],
    ['set-class', { transactionId: 'a', camera: 'cam-1' }, /className/],
    ['set-class', { transactionId: 'a', camera: 'cam-9', className: 'x' }, /unknown camera "cam-9"/],
    [
      'set-thresholds',
      { transactionId: 'a', camera: 'cam-1', thresholds: { image: 1.5 } },
      /thresholds\.image/,
    ],
    ['set-thresholds', { transactionId: 'a', camera: 'cam-1', thresholds: {} }, /at least one/],
    [
      'set-thresholds',
      { transactionId: 'a', camera: 'cam-1', thresholds: { image: 0.5, bogus: 1 } },
      /bogus/,
    ],
    ['trigger', { transactionId: 'a', camera: 'cam-1', extra: true }, /extra/],
    ['reboot', { transactionId: 'a' }, /unknown command "reboot"/],
    ['set-class', Buffer.alloc(300, 0x20), /exceeds mqtt\.commands\.maxPayloadBytes \(256\)/],
  ];
  for (const [command, payload, error] of cases) {
    const r = await send(command, payload);
    assert.equal(r.ok, false, `${command} ${String(payload)} should fail`);
    assert.match(r.error ?? '', error);
  }
  assert.deepEqual(calls, []);
});

test('the transaction id is echoed on error responses when it can be read', async () => {
  const { send } = setup();
  const r = await send('set-class', { transactionId: 'tx-9', camera: 'cam-1', className: '' });
  assert.equal(r.ok, false);
  assert.equal(r.transactionId, 'tx-9');
});

test('a command outside the allow-list is refused and its handler not called', async () => {
  const { calls, send } = setup(['status']);
  const r = await send('trigger', { transactionId: 'x', camera: 'cam-1' });
  assert.equal(r.ok, false);
  assert.match(r.error ?? '', /not allowed.*mqtt\.commands\.allow/);
  assert.deepEqual(calls, []);
  assert.equal((await send('status', {})).ok, true);
});

test('a command without a registered handler is reported unavailable', async () => {
  const { send } = setup();
  const r = await send('rebirth', { transactionId: 1 });
  assert.equal(r.ok, false);
  assert.match(r.error ?? '', /not available/);
});

test('a handler that throws gets an error response', async () => {
  const { router, send } = setup();
  router.setHandlers({
    trigger: () => {
      throw new Error('camera busy');
    },
  });
  const r = await send('trigger', { camera: 'cam-1' });
  assert.deepEqual(r, { ok: false, command: 'trigger', error: 'camera busy' });
});

test('MQTT 5 response topic and correlation data are honoured under <base>/response/; elsewhere refused', async () => {
  const { sent, send } = setup();
  const corr = Buffer.from([1, 2, 3]);
  await send('status', {}, { responseTopic: 't/response/client-7/reply', correlationData: corr });
  assert.equal(sent[0].topic, 't/response/client-7/reply');
  assert.deepEqual(sent[0].correlationData, corr);
  for (const elsewhere of ['t/cam-1/event', 'client/reply', 'spBv1.0/g/NCMD/n']) {
    const r = await send('status', {}, { responseTopic: elsewhere });
    assert.equal(sent.at(-1)!.topic, 't/response/status', elsewhere);
    assert.match(r.warning ?? '', /refused/);
  }
});

test('a response topic outside the base is used only under a configured prefix, and a refusal is logged', async () => {
  const { logger: capture, text } = captureLogger('warn');
  const sent: string[] = [];
  const router = new CommandRouter(
    topics,
    { allow: ['status'], responseTopics: ['replies/'], maxPayloadBytes: 256 },
    async (topic) => void sent.push(topic),
    capture,
  );
  router.setHandlers({ status: () => ({}) });
  const req = (responseTopic: string) =>
    router.handleOne({ topic: topics.request('status'), payload: Buffer.from('{}'), responseTopic });
  await req('replies/plc-1');
  await req('elsewhere/plc-1');
  assert.deepEqual(sent, ['replies/plc-1', 't/response/status']);
  assert.match(text(), /response topic \\"elsewhere\/plc-1\\" refused/);
});

test('an identified request is judged by its client rule and answered on its own response topic', async () => {
  const sent: { topic: string; response: CommandResponse }[] = [];
  const policy = new CommandPolicy({
    enabled: true,
    allow: ['status'],
    clients: [{ clientId: 'plc-1', allow: ['set-class'] }],
  });
  const router = new CommandRouter(
    topics,
    { policy, maxPayloadBytes: 256, cameraIds: ['cam-1'] },
    async (topic, response) => void sent.push({ topic, response }),
    logger,
  );
  const origins: unknown[] = [];
  router.setHandlers({
    setClass: (_cam, name, origin) => {
      origins.push(origin);
      return { className: name };
    },
    status: () => ({}),
  });
  const body = Buffer.from(JSON.stringify({ camera: 'cam-1', className: 'nut' }));
  const mine = await router.handleOne({ topic: topics.request('set-class', 'plc-1'), payload: body });
  assert.equal(mine.ok, true, mine.error);
  assert.equal(sent[0].topic, 't/response/set-class/plc-1');
  assert.deepEqual(origins, [{ door: 'mqtt', clientId: 'plc-1' }]);
  const anon = await router.handleOne({ topic: topics.request('set-class'), payload: body });
  assert.match(anon.error ?? '', /not allowed over MQTT \(mqtt\.commands\.allow\)/);
  const other = await router.handleOne({
    topic: topics.request('status', 'plc-1'),
    payload: Buffer.from('{}'),
  });
  assert.match(other.error ?? '', /not allowed for client "plc-1".*clients\[0\]/);
  const bad = await router.handleOne({ topic: 't/request/status/bad*id', payload: Buffer.from('{}') });
  assert.match(bad.error ?? '', /not a client id/);
  assert.equal(origins.length, 1, 'no refused request reached a handler');
});

test('a flood of requests is bounded: excess requests are dropped and counted, nothing crashes', async () => {
  const { router, sent } = setup();
  for (let i = 0; i < 1000; i++)
    router.enqueue({ topic: topics.request('set-class'), payload: Buffer.from('garbage' + i) });
  await router.idle();
  assert.ok(router.counters.dropped > 0);
  assert.equal(router.counters.errors + router.counters.dropped, 1000);
  assert.equal(sent.length, router.counters.errors);
  assert.ok(sent.every((s) => s.response.ok === false));
});

test('suspend and resume: validated (duration bounded to 30 days), passed to their handlers', async () => {
  const sent: CommandResponse[] = [];
  const calls: unknown[][] = [];
  const router = new CommandRouter(
    topics,
    { allow: ['suspend', 'resume'], maxPayloadBytes: 256, cameraIds: ['cam-1'] },
    async (_topic, response) => void sent.push(response),
    logger,
  );
  router.setHandlers({
    suspend: (cam, o) => {
      calls.push(['suspend', cam, o]);
      return { suspended: true };
    },
    resume: (cam) => {
      calls.push(['resume', cam]);
      return { resumed: true };
    },
  });
  const send = (command: string, body: unknown) =>
    router.handleOne({ topic: topics.request(command), payload: Buffer.from(JSON.stringify(body)) });
  assert.equal(
    (await send('suspend', { transactionId: 1, camera: 'cam-1', durationS: 600, comment: 'belt' })).ok,
    true,
  );
  assert.equal((await send('resume', { camera: 'cam-1' })).ok, true);
  const bad = [
    await send('suspend', { camera: 'cam-1', durationS: 31 * 24 * 3600 }),
    await send('suspend', { camera: 'cam-1', durationS: -5 }),
    await send('suspend', { camera: 'cam-9' }),
    await send('resume', { camera: 'cam-1', durationS: 5 }),
  ];
  assert.deepEqual(
    bad.map((r) => r.ok),
    [false, false, false, false],
  );
  assert.match(bad[0].error!, /durationS/);
  assert.match(bad[2].error!, /unknown camera "cam-9"/);
  assert.deepEqual(calls, [
    ['suspend', 'cam-1', { durationS: 600, comment: 'belt' }],
    ['resume', 'cam-1'],
  ]);
});
