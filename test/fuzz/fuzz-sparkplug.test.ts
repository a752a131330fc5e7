// Fuzzing the Sparkplug B DCMD and NCMD doors of the edge node: random bytes, and protobuf payloads
// (written by the tests' own encoder, not the codec under test) whose metrics have random names,
// aliases, datatypes (or none) and values. Never a crash or an unhandled rejection; each DCMD is
// either applied, with the camera's settings still in range, or refused with its reasons; an
// applied write changes exactly what it named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { SparkplugNode } from '../../src/mqtt/sparkplug/node.js';
import { CAMERA_METRICS, cameraAlias, thresholdMetrics } from '../../src/mqtt/sparkplug/metrics.js';
import { Decider } from '../../src/postprocess/decide.js';
import { DT, encodeSparkplug } from '../integration/sparkplug-proto.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 3000);

const valueField = fc.oneof(
  fc.record({ double_value: fc.double() }),
  fc.record({ float_value: fc.float() }),
  fc.record({ string_value: fc.string({ maxLength: 200 }) }),
  fc.record({ boolean_value: fc.boolean() }),
  fc.record({ int_value: fc.nat() }),
  fc.record({ long_value: fc.nat() }),
  fc.constant({}),
);
const metric = fc
  .record(
    {
      name: fc.oneof(
        fc.constantFrom(...CAMERA_METRICS.map((m) => m.name), 'Node Control/Rebirth'),
        fc.string(),
      ),
      alias: fc.oneof(fc.integer({ min: 1000, max: 1040 }), fc.nat()),
      datatype: fc.constantFrom(...Object.values(DT), 0, 99),
    },
    { requiredKeys: [] },
  )
  .chain((m) => valueField.map((v) => ({ ...m, ...v })));
// a write a host could send: a writable metric by name or alias, its datatype or none, a value near range
const WRITABLE = CAMERA_METRICS.map((m, i) => ({ ...m, i })).filter(
  (m) => m.writable && !m.key.startsWith('suspend'),
);
const plausible = fc
  .record({
    m: fc.constantFrom(...WRITABLE),
    byAlias: fc.boolean(),
    withType: fc.boolean(),
    x: fc.double({ min: -0.2, max: 1.2, noNaN: true }),
    s: fc.string({ maxLength: 40 }),
  })
  .map(({ m, byAlias, withType, x, s }) => ({
    ...(byAlias ? { alias: cameraAlias(0, m.i) } : { name: m.name }),
    ...(withType && { datatype: m.type === 'String' ? DT.String : DT.Double }),
    ...(m.type === 'String'
      ? { string_value: s }
      : { double_value: m.key === 'minRegionAreaPct' ? x * 100 : x }),
  }));
const payload = fc.oneof(
  fc
    .array(plausible, { minLength: 1, maxLength: 3 })
    .map((metrics) => encodeSparkplug({ timestamp: Date.now(), metrics })),
  fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)),
  fc
    .record(
      { timestamp: fc.nat(), metrics: fc.array(metric, { maxLength: 6 }) },
      { requiredKeys: ['metrics'] },
    )
    .map((p) => encodeSparkplug(p)),
);

test('Sparkplug DCMD/NCMD: random and structured payloads never crash; writes are all or nothing', async () => {
  const decider = new Decider({
    id: 'cam1',
    className: 'screw',
    thresholds: { image: 0.5, pixel: 0.4, minRegionAreaPct: 0 },
    decision: { k: 1, n: 1, cooldownMs: 0, severity: { warning: 0.6, critical: 0.9 } },
  });
  const node = new SparkplugNode({
    url: 'mqtt://127.0.0.1:1', // never started: the doors are driven directly
    groupId: 'fz',
    edgeNodeId: 'edge',
    bdSeqFile: join(mkdtempSync(join(tmpdir(), 'fz-spb-')), 'bdseq.json'),
    cameras: [{ id: 'cam1', className: 'screw' }],
  });
  node.onWrite((w) => {
    if (w.suspend) throw new Error('suspensions are not wired in this test');
    const r = decider.applySettings({ className: w.className, thresholds: w.thresholds });
    return { className: r.className, ...thresholdMetrics(r.thresholds) };
  });
  const outcomes: string[] = [];
  node.on('write-applied', () => outcomes.push('applied'));
  node.on('write-rejected', (r: { problems: string[] }) => {
    assert.ok(
      r.problems.length > 0 && r.problems.every((p) => typeof p === 'string' && p.length > 0),
      'reasons',
    );
    outcomes.push('rejected');
  });
  const door = node as unknown as {
    onDeviceCommand(cameraId: string, payload: Buffer): Promise<void>;
    onNodeCommand(payload: Buffer): void;
  };
  let applied = 0;
  await fc.assert(
    fc.asyncProperty(payload, fc.constantFrom('cam1', 'cam9'), async (bytes, cam) => {
      const before = { t: decider.getThresholds(), c: decider.getClassName() };
      const n = outcomes.length;
      await door.onDeviceCommand(cam, bytes);
      door.onNodeCommand(bytes); // logged and ignored, or a rebirth (not connected: a no-op)
      assert.equal(outcomes.length, n + 1, 'exactly one outcome per DCMD');
      const after = { t: decider.getThresholds(), c: decider.getClassName() };
      if (outcomes[n] === 'rejected') assert.deepEqual(after, before, 'a refused write changed nothing');
      else {
        applied++;
        for (const v of [after.t.image, after.t.pixel, after.t.clear]) assert.ok(v >= 0 && v <= 1);
        assert.ok(after.c.trim().length > 0);
      }
    }),
    { numRuns: RUNS },
  );
  // the structured generator does produce valid writes (by name or by alias)
  const byAlias = encodeSparkplug({
    metrics: [{ alias: cameraAlias(0, 14), double_value: 0.7 }],
  });
  await door.onDeviceCommand('cam1', byAlias);
  assert.equal(decider.getThresholds().image, 0.7);
  assert.ok(applied > 0, `the generator reaches accepted writes too (${applied} of ${RUNS})`);
});
