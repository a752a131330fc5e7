// The done-when for per-part results, end to end: the real service (`adaclip-edge run`, the
// demo bundle on the CPU) with a trigger camera gets 500 triggers over MQTT from a PLC stand-in
// while a real Mosquitto (persistent) is stopped and restarted twice; an outside `mosquitto_sub`
// (persistent session, QoS 1) must see exactly one distinct result per trigger on
// <base>/press/result, each with its part id and verdict, in trigger order. While the broker is down,
// the line triggers a few more parts over HTTP (the dashboard's trigger door): their results can only
// wait in the outbox (high-water mark 5), so /readyz must say not ready. (Waiting for MQTT-triggered
// results to pile up instead was a race: on a fast machine the tiny model had answered a whole chunk
// before the broker stopped, and CI failed.) /metrics must count what was sent:
// frames captured and inspected, drops by reason (a second camera drops 2 of 3 frames on purpose),
// triggers and results by verdict, and expose every metric the Grafana dashboard queries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { Mosquitto, freePort } from '../helpers/mosquitto.js';
import { ROOT } from '../helpers/fixtures.js';
import { declaredMetrics, grafanaMetricNames } from '../helpers/grafana.js';

const BUNDLE = join(ROOT, 'models', 'bundles', 'demo-untrained');
const TOTAL = 500;
const CHUNKS = [170, 170, 160];
/** Parts triggered over HTTP during each broker outage: more than the high-water mark. */
const HTTP_PER_OUTAGE = 8;
const RESULTS = TOTAL + HTTP_PER_OUTAGE * (CHUNKS.length - 1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const partId = (i: number) => `P${String(i + 1).padStart(4, '0')}`;

/** The value of one Prometheus sample, 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort();
  for (const line of text.split('\n')) {
    const m = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = m[2].split(',').sort();
    if (want.every((w) => have.includes(w))) return Number(m[3]);
  }
  return 0;
}

test(
  `${TOTAL} triggers over MQTT, broker restarted twice: one distinct result per trigger, in trigger order, metrics match`,
  { timeout: 600_000 },
  async (t) => {
    assert.ok(
      existsSync(join(BUNDLE, 'manifest.json')),
      `demo bundle missing at ${BUNDLE}: run scripts/setup.sh`,
    );
    const dir = mkdtempSync(join(tmpdir(), 'results-500-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const data = join(dir, 'mosquitto-data');
    mkdirSync(data);
    chmodSync(dir, 0o755);
    chmodSync(data, 0o777); // mosquitto runs as user "mosquitto" and writes its database here
    const broker = new Mosquitto({
      extraConfig: [
        'persistence true',
        `persistence_location ${data}/`,
        'max_queued_messages 0',
        'set_tcp_nodelay true',
      ],
    });
    await broker.start();
    t.after(() => broker.stop());

    // the outside check: mosquitto_sub with a persistent session, payloads one per line
    const seen: string[] = [];
    let subOut = '';
    const sub: ChildProcess = spawn('mosquitto_sub', [
      ...['-h', '127.0.0.1', '-p', String(broker.port), '-q', '1', '-c', '-i', 'results-checker'],
      ...['-t', 'line/press/result', '-F', '%p'],
    ]);
    t.after(() => sub.kill('SIGKILL'));
    sub.stdout!.on('data', (d: Buffer) => {
      subOut += d.toString();
      const lines = subOut.split('\n');
      subOut = lines.pop()!;
      seen.push(...lines.filter((l) => l.trim().length > 0));
    });
    await sleep(500);

    const httpPort = await freePort();
    const cfg = join(dir, 'cfg.yaml');
    writeFileSync(
      cfg,
      `model: { bundle: ${BUNDLE}, engine: { backend: onnxruntime, maxBatch: 4 } }
cameras:
  - id: press
    className: screw
    source:
      kind: trigger
      mqttTopic: plc/press/part
      maxPending: 1000
      captureTimeoutMs: 600000
      resultTimeoutMs: 600000
      http: true
      inner: { kind: synthetic, width: 160, height: 120, fps: 200, seed: 3 }
    # the untrained model scores about 0.60-0.66: a threshold inside that range gives both verdicts
    thresholds: { image: 0.62, pixel: 0.99 }
  - id: line
    className: screw
    source: { kind: synthetic, width: 160, height: 120, fps: 5, frames: 30, seed: 4 }
    admission: { policy: every-nth, everyNth: 3, queueSize: 50, staleMs: 600000 }
    thresholds: { image: 0.99, pixel: 0.99 }
mqtt:
  url: "${broker.url}"
  baseTopic: line
  protocolVersion: 4
  outbox: { path: ${join(dir, 'outbox.sqlite')}, highWater: 5 }
snapshots: { dir: ${join(dir, 'snaps')}, results: ng }
history: { path: ${join(dir, 'history.sqlite')}, reviewsDir: ${join(dir, 'reviews')} }
dashboard: { port: ${httpPort}, auth: none }
log: { pretty: never }
`,
    );
    let out = '';
    const svc = spawn(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), 'run', '--config', cfg], {
      cwd: ROOT,
    });
    t.after(() => svc.kill('SIGKILL'));
    svc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    svc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const base = `http://127.0.0.1:${httpPort}`;
    const get = (path: string) => fetch(`${base}${path}`);
    const metrics = async () => (await get('/metrics')).text();
    const waitFor = async (what: string, fn: () => Promise<boolean> | boolean, ms = 180_000) => {
      const end = Date.now() + ms;
      for (;;) {
        if (await Promise.resolve(fn()).catch(() => false)) return;
        if (Date.now() > end) {
          const m = await metrics().catch(() => '');
          const counts = m.split('\n').filter((l) => /^adaclip_(triggers|results|outbox|frames)/.test(l));
          throw new Error(
            `timed out waiting for ${what}; metrics:\n${counts.join('\n')}\nservice log:\n${out.slice(-4000)}`,
          );
        }
        if (svc.exitCode !== null)
          throw new Error(`service exited (${svc.exitCode}) before ${what}:\n${out.slice(-4000)}`);
        await sleep(100);
      }
    };
    await waitFor('the service to be ready', async () => (await get('/readyz')).ok, 120_000);

    // the PLC stand-in: QoS 1, a persistent session, so nothing it sent is lost to a restart
    const plc = mqtt.connect(broker.url, {
      clientId: 'plc-press',
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: 200,
    });
    t.after(() => plc.end(true));
    await new Promise<void>((resolve, reject) => {
      plc.once('connect', () => resolve());
      plc.once('error', reject);
    });

    // every state change carries the page's CSRF token, even with auth: none
    const csrf = ((await (await get('/api/session')).json()) as { csrf: string }).csrf;
    const httpTrigger = async (id: string) => {
      const r = await fetch(`${base}/api/cameras/press/trigger`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
        body: JSON.stringify({ partId: id }),
      });
      assert.ok(r.ok, `HTTP trigger ${id}: ${r.status} ${await r.text()}`);
    };

    let sent = 0;
    let sawNotReady: { ready: boolean; reasons: string[] } | undefined;
    let lastReadyz = '';
    for (let c = 0; c < CHUNKS.length; c++) {
      for (let i = 0; i < CHUNKS[c]; i++, sent++)
        plc.publish('plc/press/part', JSON.stringify({ partId: partId(sent) }), { qos: 1 });
      const target = sent;
      await waitFor(
        `${target} triggers received`,
        async () => sample(await metrics(), 'adaclip_triggers_total', { camera: 'press' }) === target,
      );
      if (c === CHUNKS.length - 1) break;
      // parts triggered while the broker is down: their results pile up in the outbox
      await broker.stop('SIGTERM');
      for (let i = 0; i < HTTP_PER_OUTAGE; i++, sent++) await httpTrigger(partId(sent));
      await waitFor(
        '/readyz to report the broker down with a full outbox',
        async () => {
          const r = await get('/readyz');
          lastReadyz = await r.text();
          if (r.status === 503) sawNotReady = JSON.parse(lastReadyz) as { ready: boolean; reasons: string[] };
          return r.status === 503;
        },
        60_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\nlast /readyz: ${lastReadyz}`);
      });
      await sleep(1000);
      await broker.start();
      await waitFor('ready again once reconnected', async () => (await get('/readyz')).ok, 60_000);
    }
    assert.ok(sawNotReady, '/readyz went not-ready while the broker was down');
    assert.equal(sawNotReady.ready, false);
    assert.match(
      sawNotReady.reasons.join('; '),
      /broker not connected and \d+ documents wait in the outbox \(high-water mark 5\)/,
    );

    await waitFor(
      `${RESULTS} distinct results seen by mosquitto_sub`,
      () => {
        const ids = new Set(seen.map((l) => (JSON.parse(l) as { id: string }).id));
        return ids.size >= RESULTS;
      },
      300_000,
    );
    await sleep(1000); // anything extra would arrive now

    const results = seen.map(
      (l) => JSON.parse(l) as { id: string; partId?: string; verdict: string; type: string },
    );
    const firstById = new Map<string, (typeof results)[number]>();
    for (const r of results) if (!firstById.has(r.id)) firstById.set(r.id, r);
    const distinct = [...firstById.values()];
    t.diagnostic(
      `results received ${results.length}, distinct ${distinct.length}, duplicates ${results.length - distinct.length}`,
    );
    assert.equal(distinct.length, RESULTS, 'exactly one result per trigger');
    assert.deepEqual(
      distinct.map((r) => r.partId),
      Array.from({ length: RESULTS }, (_, i) => partId(i)),
      'every part id, in trigger order',
    );
    for (const r of distinct) {
      assert.equal(r.type, 'inspection');
      assert.ok(r.verdict === 'ok' || r.verdict === 'ng', `part ${r.partId}: verdict ${r.verdict}`);
    }
    const byVerdict = { ok: 0, ng: 0 };
    for (const r of distinct) byVerdict[r.verdict as 'ok' | 'ng']++;
    t.diagnostic(`verdicts: ${JSON.stringify(byVerdict)}`);

    // /metrics counts what was sent; the second camera's 30 frames: 20 dropped every-nth, the other
    // 10 inspected, except those its latest-wins queue replaced by a newer frame while the press
    // camera's parts kept the engine busy (by design, and counted: 0 to 2 of them in runs here)
    const lineCount = (m: string, name: string, extra: Record<string, string> = {}) =>
      sample(m, name, { camera: 'line', ...extra });
    // finished: all 30 captured, and each inspected or dropped (the last one may still be in flight)
    await waitFor('the line camera to finish', async () => {
      const m = await metrics();
      const dropped = ['every-nth', 'replaced-by-newer'].reduce(
        (sum, reason) => sum + lineCount(m, 'adaclip_frames_dropped_total', { reason }),
        0,
      );
      return (
        lineCount(m, 'adaclip_frames_captured_total') === 30 &&
        lineCount(m, 'adaclip_frames_inspected_total') + dropped === 30
      );
    });
    const m = await metrics();
    const expect = (name: string, labels: Record<string, string>, value: number) =>
      assert.equal(sample(m, name, labels), value, `${name}${JSON.stringify(labels)}`);
    expect('adaclip_triggers_total', { camera: 'press' }, RESULTS);
    expect('adaclip_frames_captured_total', { camera: 'press' }, RESULTS);
    expect('adaclip_frames_inspected_total', { camera: 'press' }, RESULTS);
    expect('adaclip_results_total', { camera: 'press', verdict: 'ok' }, byVerdict.ok);
    expect('adaclip_results_total', { camera: 'press', verdict: 'ng' }, byVerdict.ng);
    expect('adaclip_results_total', { camera: 'press', verdict: 'error' }, 0);
    expect('adaclip_frames_captured_total', { camera: 'line' }, 30);
    expect('adaclip_frames_dropped_total', { camera: 'line', reason: 'every-nth' }, 20);
    const replaced = lineCount(m, 'adaclip_frames_dropped_total', { reason: 'replaced-by-newer' });
    t.diagnostic(`line camera: ${replaced} replaced by a newer frame`);
    assert.ok(replaced <= 5, `${replaced} of the line camera's 10 admitted frames replaced`);
    expect('adaclip_frames_inspected_total', { camera: 'line' }, 10 - replaced);
    assert.deepEqual(
      [...m.matchAll(/^adaclip_frames_dropped_total\{([^}]*)\} (\S+)$/gm)]
        .filter((x) => x[2] !== '0' && !/camera="line",reason="(every-nth|replaced-by-newer)"/.test(x[1]))
        .map((x) => x[0]),
      [],
      'no other drops',
    );
    expect('adaclip_outbox_depth', {}, 0);
    const declared = declaredMetrics(m);
    assert.deepEqual(
      grafanaMetricNames().filter((n) => !declared.has(n)),
      [],
      'the Grafana dashboard reads only metrics that exist',
    );

    // the history has them too, by part id and as CSV
    const one = (await (await get(`/api/results?partId=${partId(41)}`)).json()) as {
      items: { partId: string }[];
    };
    assert.deepEqual(
      one.items.map((r) => r.partId),
      [partId(41)],
    );
    const csv = await (await get('/api/results?camera=press&format=csv&limit=1000')).text();
    assert.equal(csv.trim().split('\r\n').length, RESULTS + 1);

    svc.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => svc.once('exit', r));
    assert.equal(code, 0, out.slice(-3000));
  },
);
