// Fault tests of the durable event path against a real Mosquitto spawned here. The publishing
// service runs in a child process (test/helpers/outbox-child.ts) with its real outbox; an
// independent mqtt.js subscriber with a persistent session (clean: false, fixed client id) checks
// that every accepted event id arrives, in order per camera, and counts losses and duplicates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { persistentBroker } from '../helpers/persistent-broker.js';

const TOTAL = 10_000;
const CAMERAS = 4;
const BASE = 'fault';

// Run the child the way this test runs: compiled JS under dist/, or TypeScript through tsx.
const here = fileURLToPath(import.meta.url);
const childPath = here.endsWith('.ts')
  ? join(here, '../../helpers/outbox-child.ts')
  : join(here, '../../helpers/outbox-child.js');
const childExecArgs = here.endsWith('.ts') ? ['--import', 'tsx'] : [];

class Publisher {
  readonly accepted = new Set<number>();
  lastAccepted = -1;
  done = false;
  drained = false;
  stderr = '';
  private proc: ChildProcess;
  private exited: Promise<number | null>;

  constructor(args: Record<string, unknown>) {
    this.proc = spawn(process.execPath, [...childExecArgs, childPath, JSON.stringify(args)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buf = '';
    this.proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith('A ')) {
          const n = Number(line.slice(2));
          this.accepted.add(n);
          if (n > this.lastAccepted) this.lastAccepted = n;
        } else if (line === 'DONE') this.done = true;
        else if (line === 'DRAINED') this.drained = true;
      }
    });
    this.proc.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)));
  }

  async until(pred: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; child stderr:\n${this.stderr}`);
      if (this.proc.exitCode !== null)
        throw new Error(`publisher exited (${this.proc.exitCode}) before ${what}:\n${this.stderr}`);
      await sleep(20);
    }
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    this.proc.kill(signal);
    await this.exited;
  }
}

/** The independent check: every id, in order per camera, with loss and duplicate counts. */
async function subscriber(url: string, clientId: string) {
  const client = mqtt.connect(url, {
    clientId,
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 100,
    keepalive: 5,
  });
  const seen = new Map<number, number>(); // seq -> times received
  const firstOrder = new Map<string, number[]>(); // camera -> seqs in first-arrival order
  let received = 0;
  const availability: string[] = [];
  client.on('message', (topic, payload) => {
    if (topic === `${BASE}/availability`) {
      availability.push(payload.toString());
      return;
    }
    const ev = JSON.parse(payload.toString()) as { id: string; cameraId: string; seq: number };
    assert.equal(ev.id, `ev-${String(ev.seq).padStart(8, '0')}`);
    received++;
    const times = seen.get(ev.seq) ?? 0;
    seen.set(ev.seq, times + 1);
    if (times === 0) {
      const list = firstOrder.get(ev.cameraId) ?? [];
      list.push(ev.seq);
      firstOrder.set(ev.cameraId, list);
    }
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  await client.subscribeAsync([`${BASE}/+/event`, `${BASE}/availability`], { qos: 1 });
  const report = (accepted: Set<number>) => {
    const lost = [...accepted].filter((n) => !seen.has(n));
    let outOfOrder = 0;
    for (const list of firstOrder.values())
      for (let i = 1; i < list.length; i++) if (list[i] < list[i - 1]) outOfOrder++;
    return {
      accepted: accepted.size,
      unique: seen.size,
      received,
      lost: lost.length,
      duplicates: received - seen.size,
      outOfOrder,
      lostSample: lost.slice(0, 10),
    };
  };
  return { client, seen, report, availability };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitAll(seen: Map<number, number>, accepted: Set<number>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let all = true;
    for (const n of accepted)
      if (!seen.has(n)) {
        all = false;
        break;
      }
    if (all) return;
    await sleep(50);
  }
}

test(
  `broker killed and restarted 4 times during ${TOTAL} events: every accepted event arrives, in order per camera`,
  { timeout: 300_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'mqtt-fault-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const broker = persistentBroker(t);
    await broker.start();
    t.after(() => broker.stop());
    const sub = await subscriber(broker.url, 'fault-checker-broker');
    t.after(() => sub.client.end(true));

    const pub = new Publisher({
      url: broker.url,
      dbPath: join(dir, 'outbox.sqlite'),
      baseTopic: BASE,
      clientId: 'fault-publisher-1',
      from: 0,
      to: TOTAL,
      cameras: CAMERAS,
      ratePerS: 1500,
    });
    t.after(() => pub.kill('SIGKILL'));
    const restarts = [1500, 3500, 5500, 7500];
    for (const at of restarts) {
      await pub.until(() => pub.accepted.size >= at, `${at} accepted events`);
      await broker.stop('SIGTERM');
      await sleep(300); // events keep being accepted into the outbox meanwhile
      await broker.start();
    }
    await pub.until(() => pub.drained, 'the outbox to drain');
    await waitAll(sub.seen, pub.accepted);
    const r = sub.report(pub.accepted);
    t.diagnostic(`broker restarts: ${restarts.length}; ${JSON.stringify(r)}`);
    assert.equal(pub.accepted.size, TOTAL);
    assert.equal(r.lost, 0, `lost: ${r.lostSample.join(', ')}`);
    assert.equal(r.outOfOrder, 0);
    await pub.kill('SIGTERM');
  },
);

test(
  `publishing process SIGKILLed mid-run and restarted: nothing accepted is lost, the will says offline`,
  { timeout: 300_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'mqtt-fault-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const broker = persistentBroker(t);
    await broker.start();
    t.after(() => broker.stop());
    const sub = await subscriber(broker.url, 'fault-checker-process');
    t.after(() => sub.client.end(true));
    const dbPath = join(dir, 'outbox.sqlite');
    const common = {
      url: broker.url,
      dbPath,
      baseTopic: BASE,
      clientId: 'fault-publisher-2',
      to: TOTAL,
      cameras: CAMERAS,
      ratePerS: 2000,
    };

    const first = new Publisher({ ...common, from: 0 });
    await first.until(() => first.accepted.size >= 4000, '4000 accepted events');
    await first.kill('SIGKILL');
    assert.ok(existsSync(dbPath));
    const deadline = Date.now() + 15_000;
    while (sub.availability.at(-1) !== 'offline' && Date.now() < deadline) await sleep(20);
    assert.equal(sub.availability.at(-1), 'offline', 'the last will announced the crash');

    const second = new Publisher({ ...common, from: first.lastAccepted + 1 });
    t.after(() => second.kill('SIGKILL'));
    await second.until(() => second.drained, 'the restarted outbox to drain');
    const accepted = new Set([...first.accepted, ...second.accepted]);
    await waitAll(sub.seen, accepted);
    const r = sub.report(accepted);
    t.diagnostic(
      `SIGKILL after ${first.accepted.size} accepted (last ${first.lastAccepted}); ${JSON.stringify(r)}`,
    );
    assert.equal(accepted.size, TOTAL);
    assert.equal(r.lost, 0, `lost: ${r.lostSample.join(', ')}`);
    assert.equal(r.outOfOrder, 0);
    assert.equal(sub.availability.at(-1), 'online');
    await second.kill('SIGTERM');
  },
);
