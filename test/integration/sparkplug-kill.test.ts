// The edge node process is SIGKILLed: the broker must deliver its will, an NDEATH at QoS 1 whose
// bdSeq equals the one in the NBIRTH of that session; the restarted process continues from the
// persisted bdSeq (+1). Decoded with the independent protobuf schema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { Mosquitto } from '../helpers/mosquitto.js';
import { decodeSparkplug, type DecodedPayload } from './sparkplug-proto.js';

// Run the child the way this test runs: compiled JS under dist/, or TypeScript through tsx.
const here = fileURLToPath(import.meta.url);
const childPath = join(here, '..', here.endsWith('.ts') ? 'sparkplug-child.ts' : 'sparkplug-child.js');
const childExecArgs = here.endsWith('.ts') ? ['--import', 'tsx'] : [];

function startChild(args: object): { proc: ChildProcess; born: Promise<number> } {
  const proc = spawn(process.execPath, [...childExecArgs, childPath, JSON.stringify(args)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const born = new Promise<number>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /BORN (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (code) => reject(new Error(`child exited (${code}) before its birth: ${err}`)));
  });
  return { proc, born };
}

test('SIGKILL of the edge node process: NDEATH from the will with the NBIRTH bdSeq; restart continues the bdSeq', async () => {
  const broker = new Mosquitto();
  await broker.start();
  const group = `kill${process.pid}`;
  const bdSeqFile = join(mkdtempSync(join(tmpdir(), 'spb-kill-')), 'bdseq.json');
  const seen: { type: string; p: DecodedPayload; qos: number }[] = [];
  const obs = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  obs.on('message', (topic, payload, packet) =>
    seen.push({ type: topic.split('/')[2], p: decodeSparkplug(payload), qos: packet.qos }),
  );
  await obs.subscribeAsync(`spBv1.0/${group}/#`, { qos: 1 });
  const waitFor = async (what: string, pred: () => boolean) => {
    for (let i = 0; !pred(); i++) {
      if (i > 750)
        throw new Error(`timed out waiting for ${what}; saw ${seen.map((s) => s.type).join(', ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const bdSeqOf = (p: DecodedPayload) => p.metrics.find((m) => m.name === 'bdSeq')?.value;
  const children: ChildProcess[] = [];
  try {
    const first = startChild({ url: broker.url, groupId: group, bdSeqFile });
    children.push(first.proc);
    const bd1 = await first.born;
    await waitFor('NBIRTH', () => seen.some((s) => s.type === 'NBIRTH'));
    assert.equal(bdSeqOf(seen.find((s) => s.type === 'NBIRTH')!.p), bd1);

    first.proc.kill('SIGKILL');
    await waitFor('NDEATH', () => seen.some((s) => s.type === 'NDEATH'));
    const death = seen.find((s) => s.type === 'NDEATH')!;
    assert.equal(bdSeqOf(death.p), bd1, 'NDEATH bdSeq = NBIRTH bdSeq');
    assert.equal(death.qos, 1);

    const second = startChild({ url: broker.url, groupId: group, bdSeqFile });
    children.push(second.proc);
    const bd2 = await second.born;
    assert.equal(bd2, (bd1 + 1) % 256, 'the restarted process takes the next bdSeq');
    await waitFor('second NBIRTH', () => seen.filter((s) => s.type === 'NBIRTH').length === 2);
    assert.equal(bdSeqOf(seen.filter((s) => s.type === 'NBIRTH')[1].p), bd2);
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await obs.endAsync();
    await broker.stop();
  }
});
