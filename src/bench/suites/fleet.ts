// Fleet benchmarks on loopback, with the fleet test's setup (test/helpers/fleet.ts): site Mosquitto
// brokers running the shipped deploy/site/mosquitto.conf, bridged over mutual TLS to a central
// Mosquitto, and a subscriber on the central that counts events by id. What a tier carries is
// measured where it arrives: at the central.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { mqttSchema } from '../../config/schema.js';
import { MqttLink } from '../../mqtt/mqtt-link.js';
// The fleet on loopback, shared with test/integration/fleet-bridge.test.ts.
import { CentralCounter, LoopbackFleet, alternatingImages, sleep, waitUntil } from '../loopback-fleet.js';
import { quantile, summarize, type BenchResult, type Benchmark } from '../harness.js';
import { benchEvent } from './mqtt.js';

const logger = pino({ level: 'silent' });
const WARMUP_MS = 3000;
const WINDOWS = 8;

/** Unique events per second arriving at the central, in 1 s windows. */
async function arrivalWindows(counter: CentralCounter, during?: () => Promise<void>): Promise<number[]> {
  const windows: number[] = [];
  for (let w = 0; w < WINDOWS; w++) {
    const n0 = counter.received.size;
    const t0 = performance.now();
    await sleep(1000);
    windows.push(((counter.received.size - n0) * 1000) / (performance.now() - t0));
    await during?.();
  }
  return windows;
}

/**
 * Three sites, one `adaclip-edge run` station each (untrained demo model, folder source alternating
 * an anomalous and a normal image as fast as the model runs: one event per frame), all bridged to
 * the central. Bounded by the model on this machine's cores, not by the brokers: the stations'
 * inspected frames per second, measured over the same windows, are reported beside it.
 */
async function eventsPerS3Sites(log: (m: string) => void): Promise<BenchResult> {
  const sites = ['site-a', 'site-b', 'site-c'].map((siteId, i) => ({ siteId, lineId: `line-${i + 1}` }));
  const fleet = new LoopbackFleet(sites);
  let live: CentralCounter | undefined;
  try {
    const images = alternatingImages(fleet.dir);
    await fleet.startBrokers();
    live = new CentralCounter(fleet.centralUrl);
    const counter = live;
    await counter.start();
    await fleet.startStations({
      source: `{ kind: folder, path: ${images.folder}, loop: true }`,
      imageThreshold: images.threshold,
    });
    for (const st of fleet.stations) {
      await waitUntil(
        `events of ${st.centralBase} at the central`,
        () => (counter.idsByBase.get(st.centralBase)?.size ? true : undefined),
        120_000,
        () => fleet.diagnostics(),
      );
    }
    await sleep(WARMUP_MS);
    const inspected = async () => {
      let n = 0;
      for (const st of fleet.stations) n += await st.metric('adaclip_frames_inspected_total');
      return n;
    };
    const framesPerS: number[] = [];
    let f0 = await inspected();
    let t0 = performance.now();
    const windows = await arrivalWindows(counter, async () => {
      const f1 = await inspected();
      const t1 = performance.now();
      framesPerS.push(((f1 - f0) * 1000) / (t1 - t0));
      f0 = f1;
      t0 = t1;
    });
    const sortedFrames = [...framesPerS].sort((a, b) => a - b);
    log(
      `windows: ${windows.map((x) => x.toFixed(1)).join(', ')} events/s at the central; stations inspected ${framesPerS.map((x) => x.toFixed(1)).join(', ')} frames/s; duplicates ${counter.duplicates}`,
    );
    return summarize('fleet.events_per_s_3sites', 'events/s', windows, {
      sites: 3,
      stationsPerSite: 1,
      model: 'demo-untrained (tiny, onnxruntime CPU, 1 thread per station)',
      stationsFramesPerSMedian: quantile(sortedFrames, 0.5),
      duplicates: counter.duplicates,
      bridge: 'mqttv50 over mutual TLS, QoS 1',
    });
  } finally {
    await live?.stop();
    await fleet.stop();
  }
}

/**
 * What one site broker and its bridge carry: `publishers` in-process MQTT services (durable outbox,
 * QoS 1, as the stations use) publish to the site broker as fast as the central takes the events
 * (at most `maxAhead` accepted events not yet at the central); events per second arriving at the
 * central. `direct`: the same publishers straight to the central (no site broker, no bridge), the
 * baseline measured in the same run.
 */
async function siteBridgeEventsPerS(log: (m: string) => void, direct: boolean): Promise<BenchResult> {
  const publishers = 4;
  const maxAhead = 2000;
  const fleet = new LoopbackFleet([{ siteId: 'site-a', lineId: 'line-1' }]);
  const dir = mkdtempSync(join(tmpdir(), 'bench-fleet-'));
  const services: MqttLink[] = [];
  try {
    await fleet.startBrokers();
    const counter = new CentralCounter(fleet.centralUrl);
    await counter.start();
    for (let p = 0; p < publishers; p++) {
      const svc = new MqttLink(
        mqttSchema.parse({
          url: direct ? fleet.centralUrl : fleet.sites[0].url,
          clientId: `bench-station-${p}`,
          baseTopic: direct ? `site-a/adaclip-edge/line-${p}` : `adaclip-edge/line-${p}`,
          outbox: { path: join(dir, `outbox-${p}.sqlite`) },
          commands: { enabled: false },
          statsIntervalS: 3600,
        }),
        logger,
      );
      await svc.start();
      services.push(svc);
    }
    await waitUntil(
      'the publishers to connect',
      () => (services.every((s) => s.connectionState === 'connected') ? true : undefined),
      10_000,
    );
    let accepted = 0;
    let stop = false;
    const producers = services.map(async (svc, p) => {
      let n = 0;
      while (!stop) {
        if (accepted - counter.received.size >= maxAhead) {
          await sleep(1);
          continue;
        }
        const batch = Array.from({ length: 50 }, () => svc.publishEvent(benchEvent(p * 1e9 + n++)));
        await Promise.all(batch);
        accepted += batch.length;
      }
    });
    await sleep(WARMUP_MS);
    const windows = await arrivalWindows(counter);
    stop = true;
    await Promise.all(producers);
    log(
      `windows: ${windows.map((x) => x.toFixed(0)).join(', ')} events/s at the central; ${accepted - counter.received.size} on the way at the end; duplicates ${counter.duplicates}`,
    );
    await counter.stop();
    return summarize(`fleet.site_bridge_events_per_s${direct ? '.direct' : ''}`, 'events/s', windows, {
      publishers,
      path: direct
        ? 'publishers -> central'
        : 'publishers -> site broker -> TLS bridge (mqttv50, QoS 1) -> central',
      duplicates: counter.duplicates,
      maxAhead,
    });
  } finally {
    for (const s of services) await s.stop();
    await fleet.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const benchmarks: Benchmark[] = [
  {
    name: 'fleet.events_per_s_3sites',
    description:
      'events/s arriving at a central Mosquitto from 3 sites (station -> site broker -> TLS bridge), each station running the untrained demo model flat out with one event per frame',
    run: (ctx) => eventsPerS3Sites(ctx.log),
  },
  {
    name: 'fleet.site_bridge_events_per_s',
    description:
      'events/s one site broker and its TLS bridge deliver to the central from 4 durable-outbox publishers (closed loop, 2000 ahead)',
    run: (ctx) => siteBridgeEventsPerS(ctx.log, false),
  },
  {
    name: 'fleet.site_bridge_events_per_s.direct',
    description: 'baseline of fleet.site_bridge_events_per_s: the same publishers straight to the central',
    run: (ctx) => siteBridgeEventsPerS(ctx.log, true),
  },
];
