// The operator's loop on the running service (`adaclip-edge run`, demo bundle, a real Mosquitto,
// Sparkplug on): an alarm acknowledged over the API arrives retained on <base>/<camera>/alarm and
// as the Sparkplug metric; reviews are stored and exported in the MVTec layout that `eval` reads;
// suspend and resume through every door (MQTT command, Sparkplug DCMD, HTTP with a duration): a
// suspended camera says so and raises nothing, a suspended trigger camera answers with verdict
// error; a trigger camera whose camera is down answers with trigger-timeout; the live frame and
// the server-sent stream work; the camera state the dashboard shows is true.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { loadOpenCV } from '../../src/util/opencv.js';
import { signIn, userEntry, type DashboardClient } from '../helpers/dashboard-session.js';
import { Mosquitto, freePort } from '../helpers/mosquitto.js';
import { ROOT } from '../helpers/shared.js';
import { DT, decodeSparkplug, encodeSparkplug } from './sparkplug-proto.js';

const BUNDLE = join(ROOT, 'models', 'bundles', 'demo-untrained');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** JSON bodies of the API as the test reads them. */
type Json = any;

interface Msg {
  topic: string;
  payload: Buffer;
  retain: boolean;
}

test(
  'acknowledge, review, export, suspend and resume through every door, on the running service',
  { timeout: 400_000 },
  async (t) => {
    assert.ok(
      existsSync(join(BUNDLE, 'manifest.json')),
      `demo bundle missing at ${BUNDLE}: run scripts/setup.sh`,
    );
    const dir = mkdtempSync(join(tmpdir(), 'operator-loop-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const broker = new Mosquitto();
    await broker.start();
    t.after(() => broker.stop());
    const httpPort = await freePort();
    const deadPort = await freePort(); // nothing listens here: a camera that is down
    const cfg = join(dir, 'cfg.yaml');
    writeFileSync(
      cfg,
      `model: { bundle: ${BUNDLE}, engine: { backend: onnxruntime, maxBatch: 2 } }
cameras:
  - id: line
    className: screw
    source: { kind: synthetic, width: 320, height: 240, fps: 4, seed: 5 }
    # 0: every frame of the untrained model is anomalous, so an alarm is raised at once
    thresholds: { image: 0.0, pixel: 0.6 }
  - id: press
    className: screw
    source: { kind: trigger, inner: { kind: synthetic, width: 160, height: 120, fps: 50, seed: 6 } }
    thresholds: { image: 0.0, pixel: 0.6 }
  - id: gate
    className: screw
    source:
      kind: trigger
      captureTimeoutMs: 1500
      inner: { kind: videocapture, uri: 'http://127.0.0.1:${deadPort}/cam.mjpg', reconnect: { initialMs: 200, maxMs: 400 } }
mqtt:
  url: "${broker.url}"
  baseTopic: op
  outbox: { path: ${join(dir, 'outbox.sqlite')} }
  sparkplug: { enabled: true, groupId: opg, edgeNodeId: edge1, bdSeqFile: ${join(dir, 'bdseq.json')} }
snapshots: { dir: ${join(dir, 'snaps')} }
history: { path: ${join(dir, 'history.sqlite')}, reviewsDir: ${join(dir, 'reviews')} }
dashboard:
  port: ${httpPort}
  users:
    ${userEntry('ann', 'operator', 'ann-password-1')}
log: { pretty: never }
`,
    );
    const messages: Msg[] = [];
    const client = mqtt.connect(broker.url, { protocolVersion: 5 });
    t.after(() => client.end(true));
    client.on('message', (topic, payload, packet) =>
      messages.push({ topic, payload, retain: packet.retain }),
    );
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () =>
        client.subscribe(['op/#', 'spBv1.0/opg/#'], { qos: 1 }, (e) => (e ? reject(e) : resolve())),
      );
      client.once('error', reject);
    });

    let out = '';
    const svc: ChildProcess = spawn(process.execPath, [CLI, 'run', '--config', cfg], { cwd: ROOT });
    t.after(() => svc.kill('SIGKILL'));
    svc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    svc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const base = `http://127.0.0.1:${httpPort}`;
    // signed in as an operator (src/dashboard/auth/): the session cookie and its CSRF token
    const signedIn: { client?: DashboardClient } = {};
    const get = async (path: string): Promise<Json> => (await signedIn.client!.get(path)).json();
    const post = (path: string, body?: unknown) => signedIn.client!.post(path, body);
    const waitFor = async <T>(
      what: string,
      fn: () => T | undefined | Promise<T | undefined>,
      ms = 60_000,
    ): Promise<T> => {
      const end = Date.now() + ms;
      for (;;) {
        const v = await Promise.resolve(fn()).catch(() => undefined);
        if (v !== undefined && v !== false) return v as T;
        if (Date.now() > end)
          throw new Error(`timed out waiting for ${what}; service log:\n${out.slice(-4000)}`);
        if (svc.exitCode !== null) throw new Error(`service exited before ${what}:\n${out.slice(-4000)}`);
        await sleep(100);
      }
    };
    const lastOn = (topic: string) => [...messages].reverse().find((m) => m.topic === topic);
    const json = (m: Msg | undefined): Json => (m ? JSON.parse(m.payload.toString()) : undefined);
    const camera = async (id: string): Promise<Json> =>
      ((await get('/api/status')).cameras as { id: string }[]).find((c) => c.id === id);
    const spMetric = (device: string, name: string) => {
      // the value of a metric in the newest DBIRTH/DDATA of a device that carries it (by alias after a birth)
      const aliases = new Map<string, string>();
      let value: unknown;
      for (const m of messages) {
        if (!m.topic.startsWith('spBv1.0/opg/') || !m.topic.endsWith(`/edge1/${device}`)) continue;
        const p = decodeSparkplug(m.payload);
        for (const x of p.metrics) {
          if (x.name) aliases.set(String(x.alias), x.name);
          const n = x.name ?? aliases.get(String(x.alias));
          if (n === name) value = x.value;
        }
      }
      return value;
    };

    await waitFor(
      'the service ready',
      async () => ((await fetch(`${base}/readyz`)).ok ? true : undefined),
      120_000,
    );
    signedIn.client = await signIn(base, 'ann', 'ann-password-1');

    // the state a card shows is true: the trigger camera waiting for a part is online, the one whose
    // camera is down is not
    assert.equal((await camera('press')).state, 'online');
    await waitFor('the down camera reported as such', async () =>
      ['reconnecting', 'offline'].includes((await camera('gate')).state) ? true : undefined,
    );

    // 1. an alarm on the line camera: the retained alarm topic says active
    const raised = await waitFor('the alarm raised', () => {
      const a = json(lastOn('op/line/alarm'));
      return a?.active ? a : undefined;
    });
    const events = (await get('/api/events?camera=line')).items as {
      id: string;
      transition: string;
      snapshots: unknown[];
    }[];
    const raise = events.find((e) => e.transition === 'raise')!;
    assert.equal(raised.eventId, raise.id);

    // 2. acknowledge it: stored, retained on MQTT (a late subscriber gets it), Sparkplug metric
    const ack = await post(`/api/events/${raise.id}/ack`, { comment: 'feeder jammed, clearing' });
    assert.equal(ack.status, 200, await ack.clone().text());
    const acked = await waitFor('the acknowledged alarm on MQTT', () => {
      const a = json(lastOn('op/line/alarm'));
      return a?.acknowledged ? a : undefined;
    });
    assert.equal(acked.active, true);
    assert.equal(acked.acknowledged.comment, 'feeder jammed, clearing');
    const late = mqtt.connect(broker.url, { protocolVersion: 4 });
    const retained = await new Promise<Json>((resolve, reject) => {
      late.once('message', (_t, p, packet) =>
        resolve({ ...JSON.parse(p.toString()), retainFlag: packet.retain }),
      );
      late.once('connect', () => late.subscribe('op/line/alarm', { qos: 1 }));
      late.once('error', reject);
    });
    late.end(true);
    assert.equal(retained.retainFlag, true);
    assert.equal(retained.acknowledged.by, 'ann', 'the signed-in operator');
    await waitFor('Alarm/Acknowledged over Sparkplug', () =>
      spMetric('line', 'Alarm/Acknowledged') === true ? true : undefined,
    );
    assert.equal((await post(`/api/events/${raise.id}/ack`, {})).status, 409, 'once per alarm');
    assert.equal((await get(`/api/events/${raise.id}`)).acknowledged.comment, 'feeder jammed, clearing');
    assert.equal((await camera('line')).alarm.acknowledged.by, 'ann');

    // 3. a part: triggered by the MQTT command, its result on <base>/press/result and in the history
    client.publish(
      'op/request/trigger',
      JSON.stringify({ transactionId: 'tr1', camera: 'press', partId: 'PART-1' }),
      { qos: 1 },
    );
    const result = await waitFor('the result of PART-1', () => {
      const r = json(lastOn('op/press/result'));
      return r?.partId === 'PART-1' ? r : undefined;
    });
    assert.equal(result.verdict, 'ng');
    assert.equal((await get('/api/results?partId=PART-1')).items[0].id, result.id);

    // 4. reviews: the line's raise is a false positive, the part a confirmed defect
    assert.equal((await post(`/api/events/${raise.id}/review`, { label: 'false-positive' })).status, 200);
    const rv = await post(`/api/results/${result.id}/review`, { label: 'confirmed', comment: 'scratch' });
    assert.equal(rv.status, 200);
    assert.ok(((await rv.json()) as { image?: string }).image, 'the frame was copied for the export');

    // 5. export: the MVTec layout, which eval reads (good and defect sub-folders of test/)
    const exported = join(dir, 'exported');
    const ex = spawnSync(process.execPath, [CLI, 'review', 'export', '--config', cfg, '--out', exported], {
      encoding: 'utf8',
      cwd: ROOT,
    });
    assert.equal(ex.status, 0, ex.stderr);
    assert.match(ex.stdout, /screw: 1 good \(false positives\), 1 defect \(confirmed\)/);
    assert.ok(existsSync(join(exported, 'screw', 'test', 'good', `event-${raise.id}.jpg`)));
    assert.ok(existsSync(join(exported, 'screw', 'ground_truth', 'defect', `result-${result.id}_mask.png`)));
    const listed = JSON.parse(readFileSync(join(exported, 'export.json'), 'utf8'));
    assert.equal(listed.items.length, 2);
    const ev = spawnSync(
      process.execPath,
      [
        CLI,
        'eval',
        '--bundle',
        BUNDLE,
        '--class',
        'screw',
        '--json',
        '--out',
        join(dir, 'eval-out'),
        join(exported, 'screw'),
      ],
      { encoding: 'utf8', cwd: ROOT },
    );
    assert.equal(ev.status, 0, ev.stderr);
    const report = JSON.parse(ev.stdout) as { images: number; goodImages: number; defectiveImages: number };
    assert.deepEqual(
      [report.images, report.goodImages, report.defectiveImages],
      [2, 1, 1],
      'eval scored both exported images, the false positive as good and the confirmed one as defective',
    );

    // 6. suspend the trigger camera with the MQTT command: state "suspended" everywhere, a trigger
    // is answered with verdict error, reason suspended
    client.publish(
      'op/request/suspend',
      JSON.stringify({ transactionId: 's1', camera: 'press', durationS: 120 }),
      { qos: 1 },
    );
    await waitFor('press suspended on its retained state', () =>
      json(lastOn('op/press/state'))?.status === 'suspended' ? true : undefined,
    );
    assert.equal((await camera('press')).state, 'suspended');
    assert.ok((await camera('press')).suspendedUntil);
    await waitFor('Camera/State suspended over Sparkplug', () =>
      spMetric('press', 'Camera/State') === 'suspended' ? true : undefined,
    );
    client.publish(
      'op/request/trigger',
      JSON.stringify({ transactionId: 'tr2', camera: 'press', partId: 'PART-2' }),
      { qos: 1 },
    );
    const refused = await waitFor('the result of PART-2', () => {
      const r = json(lastOn('op/press/result'));
      return r?.partId === 'PART-2' ? r : undefined;
    });
    assert.equal(refused.verdict, 'error');
    assert.equal(refused.reason, 'suspended');
    const resp = await waitFor('the trigger response', () =>
      json(messages.find((m) => m.topic === 'op/response/trigger' && m.payload.includes('"tr2"'))),
    );
    assert.equal(resp.ok, false);
    assert.match(resp.error, /suspended/);
    // resume over HTTP
    assert.deepEqual(await (await post('/api/cameras/press/resume')).json(), { ok: true, resumed: true });
    await waitFor('press online again', async () =>
      (await camera('press')).state === 'online' ? true : undefined,
    );

    // 7. suspend the line over Sparkplug DCMD: no new event, frames dropped as suspended; resume the same way
    client.publish(
      'spBv1.0/opg/DCMD/edge1/line',
      encodeSparkplug({
        timestamp: Date.now(),
        metrics: [{ name: 'Control/Suspended', datatype: DT.Boolean, boolean_value: true }],
      }),
      { qos: 0 },
    );
    await waitFor('line suspended', async () =>
      (await camera('line')).state === 'suspended' ? true : undefined,
    );
    await waitFor('Control/Suspended true', () =>
      spMetric('line', 'Control/Suspended') === true ? true : undefined,
    );
    const eventsBefore = messages.filter((m) => m.topic === 'op/line/event').length;
    const dropsOf = async () =>
      Number(
        /adaclip_frames_dropped_total\{camera="line",reason="suspended"\} (\d+)/.exec(
          await (await fetch(`${base}/metrics`)).text(),
        )?.[1] ?? 0,
      );
    await waitFor('frames dropped as suspended', async () => ((await dropsOf()) >= 3 ? true : undefined));
    assert.equal(
      messages.filter((m) => m.topic === 'op/line/event').length,
      eventsBefore,
      'a suspended camera raises nothing',
    );
    assert.match(
      await (await fetch(`${base}/metrics`)).text(),
      /adaclip_camera_suspended\{camera="line"\} 1/,
    );
    client.publish(
      'spBv1.0/opg/DCMD/edge1/line',
      encodeSparkplug({
        timestamp: Date.now(),
        metrics: [{ name: 'Control/Suspended', datatype: DT.Boolean, boolean_value: false }],
      }),
      { qos: 0 },
    );
    await waitFor('line resumed', async () => ((await camera('line')).state === 'online' ? true : undefined));

    // 8. a suspension over HTTP with a duration ends by itself
    const timed = await post('/api/cameras/line/suspend', { durationS: 1.5, comment: 'lens cleaning' });
    assert.equal(timed.status, 200);
    assert.equal((await camera('line')).state, 'suspended');
    await waitFor(
      'the suspension to run out',
      async () => ((await camera('line')).state === 'online' ? true : undefined),
      15_000,
    );

    // 9. a trigger camera whose camera is down answers its trigger with trigger-timeout
    assert.equal((await post('/api/cameras/gate/trigger', { partId: 'PART-3' })).status, 200);
    const timedOut = await waitFor('the result of PART-3', () => {
      const r = json(lastOn('op/gate/result'));
      return r?.partId === 'PART-3' ? r : undefined;
    });
    assert.equal(timedOut.verdict, 'error');
    assert.equal(timedOut.reason, 'trigger-timeout');
    assert.match(timedOut.detail, /no frame within 1500 ms of the trigger \(camera (reconnecting|offline)\)/);

    // 10. the live frame: a JPEG of the camera's frame size with an ETag that a tile can poll with
    const live = await signedIn.client!.get('/api/cameras/line/live.jpg');
    assert.equal(live.status, 200);
    const etag = live.headers.get('etag')!;
    const img = loadOpenCV().imdecode(Buffer.from(await live.arrayBuffer()));
    assert.deepEqual([img.cols, img.rows], [320, 240]);
    assert.match(etag, /^"line-\d+"$/, 'the ETag names the frame');

    // 11. the stream: status, and frame events as new live frames exist
    const ctrl = new AbortController();
    const stream = await fetch(`${base}/api/stream`, {
      signal: ctrl.signal,
      headers: { cookie: signedIn.client!.cookie },
    });
    const reader = stream.body!.getReader();
    let text = '';
    const until = Date.now() + 15_000;
    while (!(text.includes('event: status') && text.includes('event: frame')) && Date.now() < until) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
    }
    ctrl.abort();
    assert.match(text, /event: status\ndata: \{"site"/);
    assert.match(text, /event: frame\ndata: \{"cameraId":"line","seq":\d+,"at":"/);

    // metrics of the operator's actions
    const m = await (await fetch(`${base}/metrics`)).text();
    assert.match(m, /adaclip_acknowledgements_total\{camera="line"\} 1/);
    assert.match(m, /adaclip_reviews_total\{kind="event",label="false-positive"\} 1/);
    assert.match(m, /adaclip_reviews_total\{kind="result",label="confirmed"\} 1/);
    assert.match(m, /adaclip_results_total\{camera="press",verdict="error"\} 1/);
    assert.match(m, /adaclip_result_errors_total\{camera="gate",reason="trigger-timeout"\} 1/);

    svc.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => svc.once('exit', r));
    assert.equal(code, 0, out.slice(-3000));
  },
);
