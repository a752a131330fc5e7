// Changes without a restart, on a real service process and a real Mosquitto: camera A is a trigger
// camera fed by a "PLC" that publishes a part every 150 ms for the whole test, over a folder that
// alternates a white and a black image, with a threshold between their scores under both tiny
// bundles, so every part is one inspection result and one event. While the parts flow, camera B
// is added by SIGHUP, removed by the reload command, bundles are offered with a wrong sha256 and
// with a corrupted file (both refused: the old one keeps running), a new bundle is swapped in by
// load-bundle, and the first one back, with B again, by the reload command after model.bundle and
// the cameras changed in the file. The process never
// restarts, A's frames keep their sequence, every part gets exactly one ok/ng result (none lost,
// none an error), every event the service counted reaches the broker, and each result and event
// carries the sha256 and version of the model that scored it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { Mosquitto, freePort } from '../helpers/mosquitto.js';
import { ROOT } from '../helpers/shared.js';
import { TINY_ARCH, exportBundle, writeArch, writeBytesOnlyVocab } from '../helpers/export-bundle.js';
import { loadOpenCV } from '../../src/util/opencv.js';
import { decodeSparkplug } from './sparkplug-proto.js';

const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const BASE = 'plant/line1';
const work = mkdtempSync(join(tmpdir(), 'svc-reload-'));
const children: ChildProcess[] = [];
after(() => {
  children.forEach((c) => c.kill('SIGKILL'));
  rmSync(work, { recursive: true, force: true });
});

interface Doc {
  id: string;
  cameraId: string;
  partId?: string;
  verdict?: string;
  frameSeq: number;
  model: { bundleSha256: string; version?: string };
}

/** Two tiny random bundles (different seeds, so different sha256) with a version each. */
function tinyBundle(name: string, seed: number): { dir: string; sha256: string } {
  const dir = exportBundle(join(work, name), [
    '--random-init',
    String(seed),
    '--arch',
    writeArch(join(work, `arch-${name}`), TINY_ARCH),
    '--image-size',
    '84',
    '--vocab',
    writeBytesOnlyVocab(join(work, `vocab-${name}.txt.gz`)),
    '--bundle-version',
    `tiny-${name}`,
  ]);
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
    files: Record<string, { sha256: string }>;
  };
  return { dir, sha256: m.files['model.onnx'].sha256 };
}

/** The scores `adaclip-edge infer` gives the two images under a bundle. */
function scores(bundle: string, files: string[]): number[] {
  const out = execFileSync(
    process.execPath,
    [CLI, 'infer', '--bundle', bundle, '--class', 'screw', '--out', join(work, 'infer'), '--json', ...files],
    { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return out
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { score: number }).score);
}

test(
  'cameras and bundles change in a running service without losing a frame of the others',
  { timeout: 600_000 },
  async () => {
    const v1 = tinyBundle('v1', 3);
    const v2 = tinyBundle('v2', 11);
    assert.notEqual(v1.sha256, v2.sha256);
    // a copy of v2 whose model.onnx no longer matches its manifest: verification must refuse it
    const broken = join(work, 'broken');
    cpSync(v2.dir, broken, { recursive: true });
    truncateSync(join(broken, 'model.onnx'), 1000);

    const cv = loadOpenCV();
    const images = join(work, 'alternating');
    const files = [join(images, '1-white.png'), join(images, '2-black.png')];
    execFileSync('mkdir', ['-p', images]);
    cv.imwrite(files[0], new cv.Mat(120, 160, cv.CV_8UC3, [255, 255, 255]));
    cv.imwrite(files[1], new cv.Mat(120, 160, cv.CV_8UC3, [0, 0, 0]));
    // a threshold between the two images' scores under both bundles: every frame is one event
    const s1 = scores(v1.dir, files);
    const s2 = scores(v2.dir, files);
    const lo = Math.max(Math.min(...s1), Math.min(...s2));
    const hi = Math.min(Math.max(...s1), Math.max(...s2));
    assert.ok(hi - lo > 1e-4, `no threshold separates the images under both bundles: ${s1} and ${s2}`);
    const threshold = (lo + hi) / 2;

    const broker = new Mosquitto();
    await broker.start();
    after(() => broker.stop());
    const dashboardPort = await freePort();
    const cfgFile = join(work, 'config.yaml');
    const cameraA = `  - id: A
    className: screw
    source: { kind: trigger, mqttTopic: plc/a, maxPending: 1000, inner: { kind: folder, path: ${images}, loop: true } }
    admission: { policy: keep-all, queueSize: 64 }
    thresholds: { image: ${threshold}, pixel: 0.99 }`;
    const cameraB = `  - id: B
    className: screw
    source: { kind: folder, path: ${images}, loop: true, fps: 5 }
    admission: { policy: keep-all, queueSize: 8 }
    thresholds: { image: ${threshold}, pixel: 0.99 }`;
    const writeConfig = (bundle: string, cameras: string[]) =>
      writeFileSync(
        cfgFile,
        `site: s1
line: line1
model: { bundle: ${bundle}, engine: { backend: onnxruntime, maxBatch: 2, threads: 1 }, hsf: { threads: 1 } }
cameras:
${cameras.join('\n')}
mqtt:
  url: "${broker.url}"
  baseTopic: ${BASE}
  outbox: { path: ${join(work, 'outbox.sqlite')} }
  sparkplug: { enabled: true, groupId: grp, edgeNodeId: edge1, bdSeqFile: ${join(work, 'bdseq.json')} }
  commands: { allow: [status, reload, load-bundle] }
snapshots: { enabled: false }
history: { path: ${join(work, 'history.sqlite')} }
dashboard: { port: ${dashboardPort} }
log: { pretty: never }
`,
      );
    writeConfig(v1.dir, [cameraA]);

    // Everything the broker sees, from before the service starts.
    const client = mqtt.connect(broker.url, { protocolVersion: 5 });
    const messages: { topic: string; payload: Buffer; retain: boolean }[] = [];
    client.on('message', (topic, payload, packet) =>
      messages.push({ topic, payload, retain: packet.retain }),
    );
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () =>
        client.subscribe([`${BASE}/#`, 'spBv1.0/grp/#'], { qos: 1 }, (e) => (e ? reject(e) : resolve())),
      );
      client.once('error', reject);
    });
    after(() => client.end(true));
    const docs = (camera: string, kind: 'event' | 'result'): Doc[] =>
      messages
        .filter((m) => m.topic === `${BASE}/${camera}/${kind}`)
        .map((m) => JSON.parse(m.payload.toString()) as Doc);

    let log = '';
    const svc = spawn(process.execPath, [CLI, 'run', '--config', cfgFile], { cwd: ROOT });
    children.push(svc);
    svc.stdout.on('data', (d: Buffer) => (log += d.toString()));
    svc.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const waitFor = async <T>(what: string, fn: () => T | undefined, ms = 120_000): Promise<T> => {
      const end = Date.now() + ms;
      for (;;) {
        assert.equal(svc.exitCode, null, `the service exited while waiting for ${what}:\n${log}`);
        const v = fn();
        if (v !== undefined) return v;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${log.slice(-6000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const lastState = (camera: string) => {
      const m = messages.findLast((x) => x.topic === `${BASE}/${camera}/state`);
      return m && m.payload.length > 0
        ? (JSON.parse(m.payload.toString()) as Record<string, any>)
        : undefined;
    };
    let transaction = 0;
    const command = async (name: string, body: object) => {
      const transactionId = `t${++transaction}`;
      client.publish(`${BASE}/request/${name}`, JSON.stringify({ transactionId, ...body }), { qos: 1 });
      const m = await waitFor(`the ${name} response`, () =>
        messages.find(
          (x) =>
            x.topic === `${BASE}/response/${name}` &&
            (JSON.parse(x.payload.toString()) as { transactionId?: string }).transactionId === transactionId,
        ),
      );
      return JSON.parse(m.payload.toString()) as { ok: boolean; result?: any; error?: string };
    };
    /** Waits until a result of A (for a part sent from now on) is scored by `sha256`. */
    const partsSent: string[] = [];
    const nextResultBy = async (sha256: string, what: string) => {
      const from = partsSent.length;
      await waitFor(what, () =>
        docs('A', 'result').some(
          (r) => partsSent.indexOf(r.partId!) >= from && r.model.bundleSha256 === sha256,
        )
          ? true
          : undefined,
      );
    };

    await waitFor('the service online', () =>
      messages.some((m) => m.topic === `${BASE}/availability` && m.payload.toString() === 'online')
        ? true
        : undefined,
    );
    await waitFor("A's retained state", () => lastState('A'));
    assert.deepEqual(lastState('A')!.model, { sha256: v1.sha256, version: 'tiny-v1' });

    // The PLC: one part every 150 ms until the end.
    let plcOn = true;
    const plc = (async () => {
      while (plcOn) {
        const partId = `p${partsSent.length}`;
        partsSent.push(partId);
        client.publish('plc/a', partId, { qos: 1 });
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    await nextResultBy(v1.sha256, 'results of A under v1');

    // 1. SIGHUP adds camera B.
    writeConfig(v1.dir, [cameraA, cameraB]);
    svc.kill('SIGHUP');
    await waitFor('events of the new camera B', () => (docs('B', 'event').length >= 2 ? true : undefined));
    assert.equal(lastState('B')?.model?.sha256, v1.sha256);
    await waitFor('the DBIRTH of B', () =>
      messages.some((m) => m.topic === 'spBv1.0/grp/DBIRTH/edge1/B') ? true : undefined,
    );

    // 2. The reload command removes it again: its retained state is cleared, A runs on.
    writeConfig(v1.dir, [cameraA]);
    const removed = await command('reload', {});
    assert.equal(removed.ok, true, removed.error);
    assert.deepEqual(removed.result, { added: [], removed: ['B'], changed: [], restartNeeded: [] });
    assert.equal(lastState('B'), undefined, "B's retained state is cleared");
    assert.ok(
      messages.some((m) => m.topic === 'spBv1.0/grp/DDEATH/edge1/B'),
      'DDEATH of B',
    );
    const bEvents = docs('B', 'event').length;

    // 3. A bundle whose sha256 is not the one asked for is refused; so is a corrupted one.
    const wrongSha = await command('load-bundle', { path: v2.dir, sha256: v1.sha256 });
    assert.equal(wrongSha.ok, false);
    assert.match(wrongSha.error!, new RegExp(`sha256 ${v2.sha256} is not the expected ${v1.sha256}`));
    const corrupted = await command('load-bundle', { path: broken, sha256: v2.sha256 });
    assert.equal(corrupted.ok, false);
    assert.match(corrupted.error!, /verification failed: .*model\.onnx is 1000 bytes/);
    await nextResultBy(v1.sha256, 'results of A still under v1 after the refusals');

    // 4. The right sha256: loaded beside v1, warmed up, swapped between two batches.
    const swapped = await command('load-bundle', { path: v2.dir, sha256: v2.sha256 });
    assert.equal(swapped.ok, true, swapped.error);
    assert.equal(swapped.result.sha256, v2.sha256);
    assert.equal(swapped.result.version, 'tiny-v2');
    await nextResultBy(v2.sha256, 'results of A under v2');
    await waitFor("A's retained state naming v2", () =>
      lastState('A')?.model?.sha256 === v2.sha256 ? true : undefined,
    );
    const births = () =>
      messages
        .filter((m) => m.topic === 'spBv1.0/grp/NBIRTH/edge1')
        .map((m) => decodeSparkplug(m.payload).metrics);
    const modelOf = (metrics: ReturnType<typeof births>[number]) =>
      Object.fromEntries(
        metrics.filter((x) => x.name?.startsWith('Properties/Model')).map((x) => [x.name!, x.value]),
      );
    await waitFor('an NBIRTH naming v2', () =>
      births().some((b) => modelOf(b)['Properties/Model Sha256'] === v2.sha256) ? true : undefined,
    );
    assert.equal(
      modelOf(births().findLast((b) => modelOf(b)['Properties/Model Sha256'] === v2.sha256)!)[
        'Properties/Model Version'
      ],
      'tiny-v2',
    );

    // 5. The reload command with model.bundle changed in the file (to a copy of v1) and B again:
    //    B starts, v1 is back.
    const v1copy = join(work, 'v1-copy');
    cpSync(v1.dir, v1copy, { recursive: true });
    writeConfig(v1copy, [cameraA, cameraB]);
    const back = await command('reload', {});
    assert.equal(back.ok, true, back.error);
    assert.deepEqual(back.result, {
      added: ['B'],
      removed: [],
      changed: [],
      restartNeeded: [],
      model: { bundle: v1copy, sha256: v1.sha256, version: 'tiny-v1' },
    });
    await nextResultBy(v1.sha256, 'results of A under v1 again');
    await waitFor('events of B again', () => (docs('B', 'event').length > bEvents ? true : undefined));

    plcOn = false;
    await plc;
    const sent = partsSent.length;
    await waitFor(`results for all ${sent} parts`, () =>
      docs('A', 'result').length >= sent ? true : undefined,
    );
    const metricsText = await (await fetch(`http://127.0.0.1:${dashboardPort}/metrics`)).text();
    /** The sum of the Prometheus samples whose line matches. */
    const metric = (line: RegExp) =>
      metricsText
        .split('\n')
        .filter((l) => line.test(l))
        .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
    const eventsCountedA = metric(/^adaclip_events_total\{camera="A",/);
    await waitFor(`all ${eventsCountedA} counted events of A at the broker`, () =>
      new Set(docs('A', 'event').map((e) => e.id)).size >= eventsCountedA ? true : undefined,
    );

    // Nothing of A was lost: one result per part, none an error, in order, frames in sequence.
    const results = docs('A', 'result');
    assert.deepEqual(
      results.map((r) => r.partId),
      partsSent,
      'one result per part, in the order the parts came',
    );
    const verdicts = new Set(results.map((r) => r.verdict));
    assert.ok(!verdicts.has('error'), `no part went uninspected: verdicts ${[...verdicts]}`);
    const seqs = results.map((r) => r.frameSeq);
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => seqs[0] + i),
      "A's source was never restarted: its frames are numbered without a gap",
    );
    // ... and every alarm transition of A is an event at the broker: with k = n = 1 a frame raises
    // (ng after ok) or clears (ok after ng) the alarm; with the threshold between the two images
    // that is nearly every frame (a swap may turn the phase of the alternation by one frame).
    const events = docs('A', 'event');
    const transitions = results
      .filter((r, i) => (r.verdict === 'ng') !== (i > 0 && results[i - 1].verdict === 'ng'))
      .map((r) => r.frameSeq);
    assert.ok(transitions.length >= sent - 3, `${transitions.length} transitions in ${sent} parts`);
    assert.equal(eventsCountedA, transitions.length, 'the service counted one event per transition');
    assert.equal(
      new Set(events.map((e) => e.id)).size,
      eventsCountedA,
      'every counted event reached the broker',
    );
    assert.deepEqual(
      [...new Set(events.map((e) => e.frameSeq))].sort((a, b) => a - b),
      transitions,
      'the events are those of the transitions, none missing',
    );
    // Every result and event names the model that scored it: v1, then v2, then v1 again.
    const shaOrder = (list: Doc[]) =>
      list.map((d) => d.model.bundleSha256).filter((s, i, all) => i === 0 || all[i - 1] !== s);
    assert.deepEqual(shaOrder(results), [v1.sha256, v2.sha256, v1.sha256]);
    assert.deepEqual(shaOrder([...events].sort((a, b) => a.frameSeq - b.frameSeq)), [
      v1.sha256,
      v2.sha256,
      v1.sha256,
    ]);
    for (const d of [...results, ...events])
      assert.equal(d.model.version, d.model.bundleSha256 === v1.sha256 ? 'tiny-v1' : 'tiny-v2');

    assert.equal(metric(/^adaclip_model_loads_total\{outcome="refused"\}/), 2, 'two refusals counted');
    assert.equal(metric(/^adaclip_model_loads_total\{outcome="swapped"\}/), 2, 'two swaps counted');
    assert.equal(metric(/^adaclip_config_reloads_total\{outcome="applied"\}/), 3);
    assert.equal(metric(new RegExp(`^adaclip_model_info\\{sha256="${v1.sha256}",version="tiny-v1"\\}`)), 1);
    assert.equal(log.match(/"msg":"inspecting"/g)?.length, 1, 'the service started once');
    assert.equal(
      log.match(/model bundle refused: the running one stays/g)?.length,
      2,
      'both refusals logged',
    );
    console.log(
      `reload: ${JSON.stringify({ parts: sent, events: events.length, eventsB: docs('B', 'event').length, scores: { v1: s1, v2: s2 } })}`,
    );

    svc.kill('SIGTERM');
    await new Promise((r) => svc.once('exit', r));
  },
);
