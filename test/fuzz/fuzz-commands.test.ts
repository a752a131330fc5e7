// Fuzzing the MQTT JSON command door (CommandRouter.handleOne, what every request topic reaches):
// random bytes, random JSON, and requests that are nearly right (each field valid or random), on
// every command name and on made-up ones. Never a crash; every refusal says what is wrong; every
// accepted request reaches its handler exactly once, with values inside the documented ranges.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import pino from 'pino';
import { CommandRouter, type CommandResponse } from '../../src/mqtt/commands.js';
import { COMMAND_NAMES, Topics } from '../../src/mqtt/topics.js';
import { MAX_SUSPENSION_S } from '../../src/operator/suspensions.js';

const CAMERAS = ['cam1', 'cam2'];
const MAX_BYTES = 2048;
const RUNS = Number(process.env.FUZZ_RUNS ?? 3000);

/** A field's value: usually valid, sometimes any JSON value. */
const maybe = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: valid }, fc.jsonValue());
const FIELDS: Record<string, fc.Arbitrary<unknown>> = {
  transactionId: maybe(fc.oneof(fc.string({ maxLength: 140 }), fc.integer())),
  camera: maybe(fc.constantFrom(...CAMERAS, '', 'cam3')),
  className: maybe(fc.string({ maxLength: 140 })),
  partId: maybe(fc.string({ maxLength: 140 })),
  thresholds: maybe(
    fc.record(
      {
        image: maybe(fc.double({ min: -0.5, max: 1.5 })),
        pixel: maybe(fc.double({ min: -0.5, max: 1.5 })),
        clear: maybe(fc.double({ min: -0.5, max: 1.5 })),
        minRegionAreaPct: maybe(fc.double({ min: -10, max: 120 })),
      },
      { requiredKeys: [] },
    ),
  ),
  durationS: maybe(fc.double({ min: -10, max: MAX_SUSPENSION_S * 2 })),
  comment: maybe(fc.string({ maxLength: 600 })),
  extra: fc.jsonValue(),
};
/** The keys each command takes (docs/mqtt.md); a request gets some of them, rarely another one. */
const KEYS: Record<string, string[]> = {
  'set-class': ['transactionId', 'camera', 'className'],
  'set-thresholds': ['transactionId', 'camera', 'thresholds'],
  trigger: ['transactionId', 'camera', 'partId'],
  status: ['transactionId'],
  rebirth: ['transactionId'],
  suspend: ['transactionId', 'camera', 'durationS', 'comment'],
  resume: ['transactionId', 'camera'],
};
const nearlyValid = (cmd: string) =>
  fc
    .record({
      keys: fc.subarray(Object.hasOwn(KEYS, cmd) ? KEYS[cmd] : ['transactionId', 'camera']),
      stray: fc.option(fc.constantFrom(...Object.keys(FIELDS)), { freq: 8 }),
    })
    .chain(({ keys, stray }) =>
      fc.record(Object.fromEntries([...keys, ...(stray ? [stray] : [])].map((k) => [k, FIELDS[k]]))),
    );
const command = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...COMMAND_NAMES) },
  fc.string({ maxLength: 20 }),
);
const request = command.chain((cmd) =>
  fc.tuple(
    fc.constant(cmd),
    fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
      fc.json({ maxDepth: 4 }).map((s) => Buffer.from(s)),
      { weight: 4, arbitrary: nearlyValid(cmd).map((o) => Buffer.from(JSON.stringify(o))) },
      fc.string({ minLength: MAX_BYTES + 1, maxLength: MAX_BYTES + 50 }).map((s) => Buffer.from(s)),
    ),
  ),
);

test('MQTT commands: random and nearly valid requests never crash, and are applied only when valid', async () => {
  const calls: [string, unknown[]][] = [];
  const call =
    (name: string) =>
    (...args: unknown[]) => {
      calls.push([name, args]);
      return { done: name };
    };
  const published: CommandResponse[] = [];
  const router = new CommandRouter(
    new Topics('fz'),
    { allow: [...COMMAND_NAMES], maxPayloadBytes: MAX_BYTES, cameraIds: CAMERAS },
    async (_topic, r) => void published.push(r),
    pino({ level: 'silent' }),
  );
  router.setHandlers(
    Object.fromEntries(
      ['setClass', 'setThresholds', 'trigger', 'status', 'rebirth', 'suspend', 'resume'].map((n) => [
        n,
        call(n),
      ]),
    ),
  );
  let accepted = 0;
  await fc.assert(
    fc.asyncProperty(request, async ([cmd, body]) => {
      const before = calls.length;
      const r = await router.handleOne({ topic: `fz/request/${cmd}`, payload: body });
      if (!r.ok) {
        assert.equal(calls.length, before, 'a refused request changed something');
        assert.equal(typeof r.error, 'string');
        assert.match(
          r.error!,
          /payload|command|invalid .* request: \S|unknown camera|exceeds|not allowed|is not a client id/,
          'the refusal names the problem',
        );
        return;
      }
      accepted++;
      assert.equal(calls.length, before + 1, 'an accepted request reached its handler once');
      const [name, args] = calls[calls.length - 1];
      if (args.length > 0 && name !== 'status' && name !== 'rebirth')
        assert.ok(CAMERAS.includes(args[0] as string));
      if (name === 'setClass') {
        const cls = args[1] as string;
        assert.ok(cls.trim().length > 0 && cls.length <= 128, JSON.stringify(cls));
      }
      if (name === 'setThresholds') {
        const t = args[1] as Record<string, number>;
        assert.ok(Object.keys(t).length > 0);
        for (const k of ['image', 'pixel', 'clear'])
          if (t[k] !== undefined) assert.ok(t[k] >= 0 && t[k] <= 1, `${k} ${t[k]}`);
        if (t.minRegionAreaPct !== undefined) assert.ok(t.minRegionAreaPct >= 0 && t.minRegionAreaPct <= 100);
      }
      if (name === 'suspend') {
        const o = args[1] as { durationS?: number };
        if (o.durationS !== undefined) assert.ok(o.durationS > 0 && o.durationS <= MAX_SUSPENSION_S);
      }
    }),
    { numRuns: RUNS },
  );
  assert.equal(published.length, RUNS, 'every request got a response');
  assert.ok(accepted > RUNS / 50, `the generator reaches valid requests too (${accepted} of ${RUNS})`);
});
