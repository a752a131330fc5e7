// A bdSeq that cannot be stored (full disk, read-only state folder; here: its folder is a regular
// file) must not stop the edge node: it connects with the number anyway, says so (event, logged by
// the node, counted by the service), and the next session still takes the next number. Payloads
// decoded with the independent decoder (sparkplug-proto.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { Mosquitto } from '../helpers/mosquitto.js';
import { captureLogger } from '../helpers/capture-logger.js';
import { BdSeqStore } from '../../src/mqtt/sparkplug/bdseq.js';
import { SparkplugNode } from '../../src/mqtt/sparkplug/node.js';
import { decodeSparkplug, type DecodedPayload } from './sparkplug-proto.js';

function unwritableBdSeqFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bdseq-fail-'));
  writeFileSync(join(dir, 'not-a-folder'), 'x');
  return join(dir, 'not-a-folder', 'bdseq.json'); // ENOTDIR, also for root
}

test('the bdSeq store hands out the next number even when it cannot store it', () => {
  const store = new BdSeqStore(unwritableBdSeqFile());
  const a = store.next();
  const b = store.next();
  assert.deepEqual([a.value, b.value], [0, 1], 'the number still advances, in memory');
  assert.match(a.error?.message ?? '', /cannot store the Sparkplug bdSeq .*\(mqtt\.sparkplug\.bdSeqFile\)/);
});

test(
  'the edge node survives a bdSeq file it cannot write: births, a broker restart, the next session',
  { timeout: 60_000 },
  async (t) => {
    const broker = new Mosquitto();
    await broker.start();
    t.after(() => broker.stop());
    const seen: { topic: string; p: DecodedPayload }[] = [];
    const obs = await mqtt.connectAsync(broker.url, { reconnectPeriod: 200 });
    t.after(() => obs.end(true));
    obs.on('message', (topic, payload) => seen.push({ topic, p: decodeSparkplug(payload) }));
    await obs.subscribeAsync('spBv1.0/bdfail/#', { qos: 1 });
    const cap = captureLogger('info');
    const node = new SparkplugNode({
      url: broker.url,
      groupId: 'bdfail',
      edgeNodeId: 'edge1',
      bdSeqFile: unwritableBdSeqFile(),
      cameras: [{ id: 'cam1', className: 'screw' }],
      logger: cap.logger,
      reconnect: { initialMs: 100, maxMs: 500 },
    });
    const failures: Error[] = [];
    node.on('bdseq-write-failed', (e: Error) => failures.push(e));
    node.start();
    t.after(() => node.stop());
    const births = () => seen.filter((m) => m.topic === 'spBv1.0/bdfail/NBIRTH/edge1');
    const bdSeq = (p: DecodedPayload) => Number(p.metrics.find((m) => m.name === 'bdSeq')?.value);
    const waitFor = async (what: string, pred: () => boolean) => {
      for (let i = 0; !pred(); i++) {
        if (i > 1000) throw new Error(`timed out waiting for ${what}\n${cap.text()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await waitFor('the first NBIRTH', () => births().length === 1);
    assert.equal(bdSeq(births()[0].p), 0);
    assert.equal(failures.length, 1);
    assert.match(cap.text(), /sparkplug: bdSeq not stored/);

    await broker.stop();
    await broker.start();
    await waitFor('the next session', () => node.state === 'online' && node.currentBdSeq >= 1);
    // the observer's own session was lost with the broker: subscribe again, then ask for the births
    await waitFor('the observer back', () => obs.connected);
    await obs.subscribeAsync('spBv1.0/bdfail/#', { qos: 1 });
    node.rebirth();
    await waitFor('the NBIRTH of the next session', () => births().length >= 2);
    const next = births().at(-1)!.p;
    // every connect attempt takes a number (one may fail while the broker is still starting)
    assert.equal(bdSeq(next), node.currentBdSeq);
    assert.ok(bdSeq(next) >= 1, 'the next session takes a later number, not 0 again');
    assert.equal(failures.length, bdSeq(next) + 1, 'one failure reported per number taken');
    assert.equal(node.state, 'online');
  },
);
