// MQTT transport benchmarks against a Mosquitto each run spawns for itself (apt mosquitto). The
// outbox is on a temporary file with the production setting (WAL, synchronous=FULL) unless a
// name says otherwise; the sync_normal twins measure what FULL costs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { mqttSchema } from '../../config/schema.js';
import { DurableOutbox, type SyncMode } from '../../mqtt/outbox.js';
import { MqttLink } from '../../mqtt/mqtt-link.js';
import { Mosquitto } from '../mosquitto.js';
import { quantile, summarize, type BenchResult, type Benchmark } from '../harness.js';

const logger = pino({ level: 'silent' });
const BROKER_MAX_INFLIGHT = Number(process.env.BENCH_MOSQUITTO_MAX_INFLIGHT ?? 100);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withLink<T>(fn: (svc: MqttLink) => Promise<T>, sync: SyncMode = 'FULL'): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-mqtt-'));
  // Mosquitto's default max_inflight_messages (20) is also the Receive Maximum it grants MQTT 5
  // clients, which would cap the outbox window at 20; a broker that takes store-and-forward
  // traffic should allow more. set_tcp_nodelay: without it Mosquitto's PUBACKs wait behind
  // Nagle's algorithm and the delayed ACK (p50 ~10 ms instead of < 1 ms at 100 events/s).
  // Both are the broker settings docs/mqtt.md recommends.
  const broker = new Mosquitto({
    extraConfig: [`max_inflight_messages ${BROKER_MAX_INFLIGHT}`, 'set_tcp_nodelay true'],
  });
  await broker.start();
  const svc = new MqttLink(
    mqttSchema.parse({
      url: broker.url,
      clientId: 'bench-publisher',
      baseTopic: 'bench',
      outbox: { path: join(dir, 'outbox.sqlite') },
      commands: { enabled: false },
      statsIntervalS: 3600,
    }),
    logger,
    { outboxSynchronous: sync },
  );
  try {
    await svc.start();
    for (let i = 0; i < 100 && svc.connectionState !== 'connected'; i++) await sleep(50);
    if (svc.connectionState !== 'connected') throw new Error('could not connect to the spawned Mosquitto');
    return await fn(svc);
  } finally {
    await svc.stop();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A realistic event document (~700 bytes of JSON), with an id made from n. */
export function benchEvent(n: number) {
  return {
    id: `01J${String(n).padStart(23, '0')}`,
    version: 1,
    cameraId: `cam-${n % 4}`,
    ts: new Date().toISOString(),
    className: 'screw',
    score: 0.87,
    threshold: 0.5,
    regions: [
      {
        x: 120,
        y: 88,
        width: 40,
        height: 32,
        areaPx: 1021,
        areaPct: 0.41,
        maxScore: 0.93,
        meanScore: 0.71,
        centroid: [139.5, 103.2],
      },
    ],
    model: { bundleSha256: 'f'.repeat(64), checkpoint: 'untrained-test' },
    latenciesMs: { preprocess: 2.1, engine: 48.3, hsf: 3.2, decide: 1.1 },
    snapshots: { frame: 'var/snapshots/cam-0/x.jpg', overlay: 'var/snapshots/cam-0/x-overlay.jpg' },
  };
}

async function durableEventsPerS(log: (m: string) => void): Promise<BenchResult> {
  return withLink(async (svc) => {
    let delivered = 0;
    svc.on('delivered', () => delivered++);
    let accepted = 0;
    let stop = false;
    // Closed loop: keep the producer at most `maxAhead` events ahead of the PUBACKs, so the rate
    // measured is the rate at which events become durable AND acknowledged, not a growing backlog.
    const maxAhead = 2000;
    const producer = (async () => {
      let n = 0;
      while (!stop) {
        if (accepted - delivered >= maxAhead) {
          await sleep(1);
          continue;
        }
        const batch = Array.from({ length: 100 }, () => svc.publishEvent(benchEvent(n++)));
        await Promise.all(batch);
        accepted += batch.length;
      }
    })();
    await sleep(1500); // warm-up
    const windows: number[] = [];
    for (let w = 0; w < 8; w++) {
      const d0 = delivered;
      const t0 = performance.now();
      await sleep(1000);
      windows.push(((delivered - d0) * 1000) / (performance.now() - t0));
    }
    stop = true;
    await producer;
    log(
      `windows: ${windows.map((x) => x.toFixed(0)).join(', ')} events/s; backlog at end ${accepted - delivered}`,
    );
    return summarize('mqtt.durable_events_per_s', 'events/s', windows, {
      goal: '>= 2000',
      synchronous: 'FULL',
      protocolVersion: 5,
      inflight: 64,
      brokerMaxInflight: BROKER_MAX_INFLIGHT,
      brokerTcpNodelay: true,
    });
  });
}

async function publishP99(log: (m: string) => void, sync: SyncMode): Promise<BenchResult> {
  return withLink(async (svc) => {
    const startedAt = new Map<string, number>();
    const durableAt = new Map<string, number>();
    const latencies: number[] = [];
    const acceptMs: number[] = [];
    const afterAcceptMs: number[] = [];
    svc.on('delivered', (d) => {
      const t0 = startedAt.get(d.eventId);
      if (t0 === undefined) return;
      const now = performance.now();
      latencies.push(now - t0);
      afterAcceptMs.push(now - (durableAt.get(d.eventId) ?? now));
      startedAt.delete(d.eventId);
      durableAt.delete(d.eventId);
    });
    const ratePerS = 100;
    const total = 2000 + 200; // 200 warm-up events, then 4 windows of 500
    const t0 = performance.now();
    for (let n = 0; n < total; n++) {
      const due = t0 + (n * 1000) / ratePerS;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const ev = benchEvent(n);
      const start = performance.now();
      startedAt.set(ev.id, start); // "decision": the moment the event is handed over
      void svc.publishEvent(ev).then(() => {
        const now = performance.now();
        acceptMs.push(now - start);
        durableAt.set(ev.id, now);
      });
    }
    for (let i = 0; i < 200 && startedAt.size > 0; i++) await sleep(10);
    const measured = latencies.slice(200);
    const windowP99 = [0, 1, 2, 3].map((w) =>
      quantile(
        [...measured.slice(w * 500, (w + 1) * 500)].sort((a, b) => a - b),
        0.99,
      ),
    );
    const sorted = (a: number[]) => [...a.slice(200)].sort((x, y) => x - y);
    const all = [...measured].sort((a, b) => a - b);
    const acc = sorted(acceptMs);
    const after = sorted(afterAcceptMs);
    log(
      `window p99s: ${windowP99.map((x) => x.toFixed(2)).join(', ')} ms; overall p50 ${quantile(all, 0.5).toFixed(2)} p99 ${quantile(all, 0.99).toFixed(2)} max ${all.at(-1)?.toFixed(2)} ms; ` +
        `of which making it durable p50 ${quantile(acc, 0.5).toFixed(2)} p99 ${quantile(acc, 0.99).toFixed(2)}, durable->PUBACK p50 ${quantile(after, 0.5).toFixed(2)} p99 ${quantile(after, 0.99).toFixed(2)}`,
    );
    return summarize(`mqtt.publish_p99_ms${sync === 'FULL' ? '' : '.sync_normal'}`, 'ms', windowP99, {
      goal: '<= 20',
      synchronous: sync,
      brokerTcpNodelay: true,
      ratePerS,
      overallP50: quantile(all, 0.5),
      overallP99: quantile(all, 0.99),
      max: all.at(-1),
      durableP50: quantile(acc, 0.5),
      durableP99: quantile(acc, 0.99),
      durableToPubackP50: quantile(after, 0.5),
      durableToPubackP99: quantile(after, 0.99),
      lostOrLate: startedAt.size,
    });
  }, sync);
}

/** persistEvent throughput without a broker: what the disk sync policy costs. */
async function outboxAcceptPerS(sync: SyncMode): Promise<BenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-outbox-'));
  const outbox = new DurableOutbox(
    { path: join(dir, 'o.sqlite'), maxEvents: 10_000_000, overflow: 'drop-oldest', synchronous: sync },
    logger,
  );
  outbox.open();
  try {
    const payload = Buffer.from(JSON.stringify(benchEvent(0)));
    const singleMs: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      await outbox.persistEvent({ cameraId: 'cam-0', eventId: `s${i}`, payload });
      singleMs.push(performance.now() - t0);
    }
    const windows: number[] = [];
    for (let w = 0; w < 5; w++) {
      let n = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < 1000) {
        await Promise.all(
          Array.from({ length: 100 }, (_, i) =>
            outbox.persistEvent({ cameraId: 'cam-0', eventId: `b${w}-${n + i}`, payload }),
          ),
        );
        n += 100;
      }
      windows.push((n * 1000) / (performance.now() - t0));
    }
    const sorted = [...singleMs].sort((a, b) => a - b);
    return summarize(`mqtt.outbox_accept_per_s.sync_${sync.toLowerCase()}`, 'events/s', windows, {
      batch: 100,
      singleCommitMedianMs: quantile(sorted, 0.5),
      singleCommitP99Ms: quantile(sorted, 0.99),
    });
  } finally {
    outbox.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const benchmarks: Benchmark[] = [
  {
    name: 'mqtt.durable_events_per_s',
    description:
      'sustained events/s made durable (outbox, WAL, synchronous=FULL) and PUBACKed at QoS 1 by Mosquitto; median of 1 s windows; goal >= 2000',
    run: (ctx) => durableEventsPerS(ctx.log),
  },
  {
    name: 'mqtt.publish_p99_ms',
    description:
      'ms from handing an event over (publishEvent) to its PUBACK at 100 events/s; median of the p99s of 5 s windows; goal <= 20',
    run: (ctx) => publishP99(ctx.log, 'FULL'),
  },
  {
    name: 'mqtt.publish_p99_ms.sync_normal',
    description:
      'as mqtt.publish_p99_ms with synchronous=NORMAL (no fsync per commit; not power-loss safe): what the fsync costs',
    run: (ctx) => publishP99(ctx.log, 'NORMAL'),
  },
  {
    name: 'mqtt.outbox_accept_per_s.sync_full',
    description:
      'outbox alone: events/s made durable in batches of 100 with synchronous=FULL (the production setting)',
    run: () => outboxAcceptPerS('FULL'),
  },
  {
    name: 'mqtt.outbox_accept_per_s.sync_normal',
    description:
      'outbox alone with synchronous=NORMAL (not power-loss safe): the baseline FULL is compared with',
    run: () => outboxAcceptPerS('NORMAL'),
  },
];
