// Three sites on loopback, all real processes: each site runs the shipped site-broker config
// (deploy/site/mosquitto.conf) bridged over mutual TLS to a central Mosquitto, and one
// `adaclip-edge run` station publishing to it. While triggered parts make events, the central is
// stopped and restarted, and one site broker is stopped (its bridge link cut, with messages queued
// for the central in it) and started again. A subscriber on the central with a persistent session
// must end up with every event each station reports as accepted: none lost, duplicates (allowed
// by QoS 1) counted and removed by event id.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  CentralCounter,
  DEMO_BUNDLE,
  LoopbackFleet,
  alternatingImages,
  waitUntil,
  type Station,
} from '../helpers/fleet.js';

const SITES = [
  { siteId: 'site-a', lineId: 'line-1' },
  { siteId: 'site-b', lineId: 'line-2' },
  { siteId: 'site-c', lineId: 'line-3' },
];
const PARTS_PER_BATCH = 8;

test(
  'every event of 3 stations reaches the central across a central restart and a cut site bridge',
  { timeout: 600_000 },
  async () => {
    assert.ok(
      existsSync(join(DEMO_BUNDLE, 'manifest.json')),
      `demo bundle missing at ${DEMO_BUNDLE}: run scripts/setup.sh`,
    );
    const fleet = new LoopbackFleet(SITES);
    after(() => fleet.stop());
    const diag = () => fleet.diagnostics();
    const images = alternatingImages(fleet.dir);
    await fleet.startBrokers();
    const counter = new CentralCounter(fleet.centralUrl, [
      '+/adaclip-edge/+/availability',
      '+/adaclip-edge/+/response/#',
      '+/bridge/state',
      'spBv1.0/+/NBIRTH/+',
    ]);
    await counter.start();
    after(() => counter.stop());
    const triggerSource = `{ kind: trigger, http: true, inner: { kind: folder, path: ${images.folder}, loop: true } }`;
    await fleet.startStations({ source: triggerSource, imageThreshold: images.threshold });
    const [a, b, c] = fleet.stations;

    const seen = (topic: string, payload?: string) =>
      counter.other.some((m) => m.topic === topic && (payload === undefined || m.payload === payload))
        ? true
        : undefined;
    for (const st of fleet.stations) {
      await waitUntil(
        `${st.centralBase}/availability online at the central`,
        () => seen(`${st.centralBase}/availability`, 'online'),
        60_000,
        diag,
      );
      const node = `spBv1.0/${st.spec.siteId}/NBIRTH/${st.spec.siteId}-${st.spec.lineId}`;
      await waitUntil(
        `${node} at the central (Sparkplug through the bridge)`,
        () => seen(node),
        60_000,
        diag,
      );
    }

    let sent = 0;
    const triggered = new Map<Station, number>(fleet.stations.map((s) => [s, 0]));
    /** Parts for each station; `midway` runs after half of them, while their events are in flight. */
    const batch = async (stations: Station[], label: string, midway?: () => Promise<void>) => {
      for (let i = 0; i < PARTS_PER_BATCH; i++) {
        if (i === PARTS_PER_BATCH / 2) await midway?.();
        for (const st of stations) {
          assert.ok(await st.trigger(`${label}-${i}`), `trigger ${label}-${i} refused by ${st.centralBase}`);
          triggered.set(st, triggered.get(st)! + 1);
          sent++;
        }
      }
      // every trigger alternates the image, so every part is one event once the service accepted it
      for (const st of stations) {
        await waitUntil(
          `${st.centralBase} to accept ${triggered.get(st)} events and results`,
          () =>
            st.acceptedIds.size === triggered.get(st) && st.acceptedResultIds.size === triggered.get(st)
              ? true
              : undefined,
          120_000,
          diag,
        );
      }
    };
    const central = fleet.central;
    const siteB = fleet.sites[1];

    // 1. All links up.
    await batch([a, b, c], 'up');
    // 2. The central stops (SIGTERM: Mosquitto saves its sessions; see deploy/README.md for a hard
    //    crash) while events flow: they queue in the site brokers, for their bridges.
    await batch([a, b, c], 'central-down', () => central.stop('SIGTERM'));
    // 3. Site b's broker stops too while station b publishes: what it queued for the central must
    //    survive its restart, and station b keeps the rest in its own outbox meanwhile.
    await batch([a, b, c], 'site-b-cut', () => siteB.stop('SIGTERM'));
    // 4. The central comes back, then site b's broker.
    await central.start();
    await batch([a, c], 'site-b-down');
    await siteB.start();
    await batch([a, b, c], 'all-back');

    const accepted = new Set<string>();
    // every part is one event (the image alternates) and one inspection result (a trigger camera)
    const acceptedBy = (st: Station) => [...st.acceptedIds, ...st.acceptedResultIds];
    for (const st of fleet.stations) for (const id of acceptedBy(st)) accepted.add(id);
    await waitUntil(
      `the central to receive all ${accepted.size} accepted events`,
      () => ([...accepted].every((id) => counter.received.has(id)) ? true : undefined),
      120_000,
      () => {
        const missing = fleet.stations.map(
          (st) =>
            `${st.centralBase}: ${acceptedBy(st).filter((id) => !counter.received.has(id)).length} missing`,
        );
        return `${missing.join('; ')}\n${diag()}`;
      },
    );

    // What each station reports as accepted is what it was sent (one event per part), also in its
    // Prometheus counter, and the central has exactly those events under that station's topics.
    for (const st of fleet.stations) {
      assert.equal(st.acceptedIds.size, triggered.get(st), `${st.centralBase} accepted one event per part`);
      assert.equal(
        st.acceptedResultIds.size,
        triggered.get(st),
        `${st.centralBase} accepted one result per part`,
      );
      assert.equal(await st.metric('adaclip_events_total'), st.acceptedIds.size, `${st.centralBase} metrics`);
      assert.deepEqual(
        [...(counter.idsByBase.get(st.centralBase) ?? [])].sort(),
        acceptedBy(st).sort(),
        `${st.centralBase}: the central has exactly the accepted events and results`,
      );
    }
    assert.equal(accepted.size, 2 * sent);
    assert.equal(counter.received.size, 2 * sent, 'no event or result the stations did not accept');
    assert.equal(counter.malformed, 0);
    // The bridge announces itself on the central (notification_topic): once at the start, and again
    // after the central's restart and after its own.
    const bridgeUps = counter.other.filter((m) => m.topic === 'site-b/bridge/state' && m.payload === '1');
    assert.ok(bridgeUps.length >= 2, `site b's bridge announced ${bridgeUps.length} connects`);

    // Commands cross the bridge inward: a status request on the central reaches station b and its
    // answer comes back out.
    await counter.publish(`${b.centralBase}/request/status`, JSON.stringify({ transactionId: 'fleet-1' }));
    const response = await waitUntil(
      'the status response of station b at the central',
      () => counter.other.find((m) => m.topic === `${b.centralBase}/response/status`),
      30_000,
      diag,
    );
    const parsed = JSON.parse(response.payload) as {
      ok: boolean;
      transactionId: string;
      result: { site: string };
    };
    assert.equal(parsed.ok, true);
    assert.equal(parsed.transactionId, 'fleet-1');
    assert.equal(parsed.result.site, 'site-b');

    const report = {
      stations: fleet.stations.map((st) => ({ base: st.centralBase, accepted: st.acceptedIds.size })),
      sent,
      receivedMessages: counter.messages,
      uniqueReceived: counter.received.size,
      duplicates: counter.duplicates,
      results: counter.kinds.result,
      imageScores: images.scores,
    };
    console.log(`fleet: ${JSON.stringify(report)}`);
  },
);
