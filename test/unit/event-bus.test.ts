// The service bus: listeners are called in order; one that throws or rejects is logged and never
// reaches the emitter; one that returns a value that is not a promise (prom-client's inc() returns
// an object) is not taken for a failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceBus } from '../../src/service/event-bus.js';
import { captureLogger } from '../helpers/capture-logger.js';

test('failing listeners are logged, other values are fine, the emitter never sees an error', async () => {
  const { logger, text } = captureLogger();
  const bus = new ServiceBus(logger);
  const got: string[] = [];
  bus.on('liveFrame', () => {
    throw new Error('boom');
  });
  bus.on('liveFrame', () => Promise.reject(new Error('later boom')));
  bus.on('liveFrame', ((f: { cameraId: string }) => ({ counted: f.cameraId })) as never);
  const off = bus.on('liveFrame', (f) => void got.push(f.cameraId));
  bus.emit('liveFrame', { cameraId: 'a', seq: 1, at: '' });
  off();
  bus.emit('liveFrame', { cameraId: 'b', seq: 2, at: '' });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(got, ['a']);
  const failures = text()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { msg: string })
    .filter((l) => l.msg === 'an event listener failed');
  assert.equal(
    failures.length,
    4,
    'two failing listeners, two emits; the object-returning one is not among them',
  );
});
