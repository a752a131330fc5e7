// The result ledger: one result per trigger, made durable in trigger order even when outcomes
// arrive out of order; a trigger without an outcome is answered by the result timeout (a late
// outcome is dropped); refused and unregistered triggers are answered too; close() answers the rest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorResult, type InspectionResult, type PartRef } from '../../src/events/inspection-result.js';
import { ResultLedger } from '../../src/service/result-ledger.js';
import { createLogger } from '../../src/util/log.js';
import { CONTEXT, inspectionResult } from '../helpers/documents.js';

const logger = createLogger({ level: 'silent' });

function ledger(o: { timeoutMs?: number; failPersist?: (r: InspectionResult) => boolean } = {}) {
  const persisted: InspectionResult[] = [];
  const durable: InspectionResult[] = [];
  const late: string[] = [];
  const l = new ResultLedger({
    // the outbox takes them in call order and commits a moment later
    persist: (r) => {
      persisted.push(r);
      return new Promise((resolve, reject) =>
        setTimeout(() => (o.failPersist?.(r) ? reject(new Error('outbox full')) : resolve(1)), 2),
      );
    },
    durable: (r) => durable.push(r),
    errorDoc: (part, reason, detail) => errorResult(CONTEXT, part, { reason, detail, className: 'screw' }),
    resultTimeoutMs: () => o.timeoutMs ?? 10_000,
    late: (p) => late.push(p.triggerId),
    logger,
  });
  return { l, persisted, durable, late };
}

const part = (cameraId: string, n: number): PartRef => ({
  cameraId,
  triggerId: `t${n}`,
  partId: `P${n}`,
  triggeredAtWall: Date.now(),
});
const ok = (p: PartRef) => ({
  ...inspectionResult(p.cameraId, p.triggeredAtWall, { partId: p.partId }),
  triggerId: p.triggerId,
});

test('results become durable in trigger order per camera, whatever order the outcomes come in', async () => {
  const { l, persisted, durable } = ledger();
  const parts = [part('a', 1), part('a', 2), part('b', 3), part('a', 4)];
  for (const p of parts) l.register(p);
  // trigger 4 and 2 finish first, 3 (another camera) does not wait for camera a
  const d4 = l.complete('a', 't4', ok, { triggeredAtWall: Date.now() });
  const d2 = l.fail(parts[1], 'preprocess-error', 'bad frame');
  const d3 = l.complete('b', 't3', ok, { triggeredAtWall: Date.now() });
  assert.deepEqual(
    persisted.map((r) => r.triggerId),
    ['t3'],
    'camera a waits for trigger 1',
  );
  await d3;
  const d1 = l.complete('a', 't1', ok, { triggeredAtWall: Date.now() });
  await Promise.all([d1, d2, d4]);
  assert.deepEqual(
    persisted.map((r) => r.triggerId),
    ['t3', 't1', 't2', 't4'],
  );
  assert.deepEqual(
    durable.map((r) => [r.triggerId, r.verdict]),
    [
      ['t3', 'ok'],
      ['t1', 'ok'],
      ['t2', 'error'],
      ['t4', 'ok'],
    ],
  );
  assert.equal(durable[2].reason, 'preprocess-error');
  assert.equal(l.waiting, 0);
});

test('a trigger without an outcome is answered by the result timeout; its late outcome is dropped', async () => {
  const { l, durable, late } = ledger({ timeoutMs: 30 });
  l.register(part('a', 1));
  l.register(part('a', 2));
  await new Promise((r) => setTimeout(r, 80));
  assert.deepEqual(
    durable.map((r) => [r.triggerId, r.reason]),
    [
      ['t1', 'result-timeout'],
      ['t2', 'result-timeout'],
    ],
  );
  await l.complete('a', 't1', ok, { triggeredAtWall: Date.now() });
  assert.deepEqual(late, ['t1']);
  assert.equal(durable.length, 2, 'no second result for an answered trigger');
  // a failure reported for an answered trigger (e.g. a publish error after the timeout) is ignored too
  await l.fail(part('a', 2), 'publish-error', 'x');
  assert.equal(durable.length, 2);
});

test('unregistered triggers are answered at once; close() answers the waiting ones and waits', async () => {
  const { l, durable } = ledger();
  await l.fail({ cameraId: 'a', triggerId: 'lost', triggeredAtWall: Date.now() }, 'trigger-rejected', 'busy');
  assert.equal(durable.at(-1)?.reason, 'trigger-rejected');
  l.register(part('a', 1));
  l.register(part('a', 2));
  await l.close('shutdown', 'stopping');
  assert.deepEqual(
    durable.slice(1).map((r) => [r.triggerId, r.reason]),
    [
      ['t1', 'shutdown'],
      ['t2', 'shutdown'],
    ],
  );
  assert.throws(() => l.register(part('a', 1)), /registered twice/);
});

test('a result the outbox refuses rejects its waiter and is not announced as durable', async () => {
  const { l, durable } = ledger({ failPersist: (r) => r.triggerId === 't1' });
  l.register(part('a', 1));
  l.register(part('a', 2));
  const d1 = l.complete('a', 't1', ok, { triggeredAtWall: Date.now() });
  const d2 = l.complete('a', 't2', ok, { triggeredAtWall: Date.now() });
  await assert.rejects(d1, /outbox full/);
  await d2;
  assert.deepEqual(
    durable.map((r) => r.triggerId),
    ['t2'],
  );
});
