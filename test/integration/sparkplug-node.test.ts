// The Sparkplug B edge node against a real Mosquitto. Everything the node publishes is decoded with an
// independent protobuf decoder (sparkplug-proto.ts), never with sparkplug-payload.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { Mosquitto } from '../helpers/mosquitto.js';
import { SparkplugNode, type SparkplugNodeOptions } from '../../src/mqtt/sparkplug/node.js';
import { BdSeqStore } from '../../src/mqtt/sparkplug/bdseq.js';
import { Decider } from '../../src/postprocess/decide.js';
import { thresholdMetrics } from '../../src/mqtt/sparkplug/metrics.js';
import { decodeSparkplug, encodeSparkplug, DT, type DecodedPayload } from './sparkplug-proto.js';

/** Normative statements of the Sparkplug B 3.0 specification (tck ids), checked below. */
const SPEC = {
  nbirthBdSeq:
    "[tck-id-message-flow-edge-node-birth-publish-nbirth-payload-bdSeq] The Edge Node's NBIRTH payload MUST include a metric with the name of 'bdSeq' the datatype of INT64",
  willBdSeq:
    "[tck-id-message-flow-edge-node-birth-publish-will-message-payload-bdSeq] The Edge Node's MQTT Will Message's payload MUST include a metric with the name of 'bdSeq', the datatype of INT64",
  rebirthNoAlias:
    "[tck-id-operational-behavior-data-commands-rebirth-name-aliases] When aliases are being used by an Edge Node an NBIRTH message MUST NOT include an alias for the 'Node Control/Rebirth' metric.",
  dataNoDatatype:
    '[tck-id-payloads-metric-datatype-not-req] The datatype SHOULD NOT be included with metric definitions in NDATA, NCMD, DDATA, and DCMD messages.',
  birthDatatype:
    '[tck-id-payloads-metric-datatype-req] The datatype MUST be included with each metric definition in NBIRTH and DBIRTH messages.',
};

const broker = new Mosquitto();
before(async () => broker.start());
after(async () => broker.stop());

interface Msg {
  topic: string;
  p: DecodedPayload;
  /** QoS as delivered to this QoS 1 subscriber: min(publish QoS, 1). */
  qos: number;
}

/** An independent subscriber recording every Sparkplug message of one group. */
class Observer {
  readonly msgs: Msg[] = [];
  private client?: MqttClient;

  async open(group: string): Promise<void> {
    this.client = await mqtt.connectAsync(broker.url, { clientId: `obs-${group}`, reconnectPeriod: 0 });
    this.client.on('message', (topic, payload, packet) => {
      if (topic.includes('/STATE/')) return;
      try {
        this.msgs.push({ topic, p: decodeSparkplug(payload), qos: packet.qos });
      } catch {
        this.msgs.push({ topic, p: { metrics: [] }, qos: packet.qos }); // the garbage the tests send on purpose
      }
    });
    await this.client.subscribeAsync(`spBv1.0/${group}/#`, { qos: 1 });
  }

  of(type: string, device?: string): Msg[] {
    return this.msgs.filter((m) => {
      const parts = m.topic.split('/');
      return parts[2] === type && (device === undefined || parts[4] === device);
    });
  }

  async waitFor(what: string, pred: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; saw ${this.msgs.map((m) => m.topic).join(', ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async publish(topic: string, payload: Buffer | string, retain = false): Promise<void> {
    await this.client!.publishAsync(topic, payload, { qos: 1, retain });
  }

  /** A round trip through the broker: everything published before it has been routed. */
  async sync(): Promise<void> {
    const topic = `sync/${Math.random()}`;
    let got = false;
    this.client!.on('message', (t) => (got ||= t === topic));
    await this.client!.subscribeAsync(topic);
    await this.client!.publishAsync(topic, 'x', { qos: 1 });
    await this.waitFor('sync', () => got);
  }

  async close(): Promise<void> {
    await this.client?.endAsync();
  }
}

let groupNo = 0;
function setup(over: Partial<SparkplugNodeOptions> = {}): { opts: SparkplugNodeOptions; group: string } {
  const group = `g${++groupNo}-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'spb-'));
  const opts: SparkplugNodeOptions = {
    url: broker.url,
    groupId: group,
    edgeNodeId: 'edge1',
    bdSeqFile: join(dir, 'bdseq.json'),
    cameras: [
      {
        id: 'cam1',
        className: 'screw',
        initial: { thresholdImage: 0.5, thresholdPixel: 0.4, thresholdClear: 0.5 },
      },
      { id: 'cam2', className: 'metal nut' },
    ],
    reconnect: { initialMs: 50, maxMs: 200 },
    softwareVersion: 'test',
    ...over,
  };
  return { opts, group };
}

function metric(p: DecodedPayload, name: string) {
  const m = p.metrics.find((x) => x.name === name);
  assert.ok(m, `metric ${name} missing from ${p.metrics.map((x) => x.name).join(', ')}`);
  return m;
}

test('NBIRTH and one DBIRTH per camera: seq, bdSeq, names, aliases and datatypes', async () => {
  const { opts, group } = setup();
  const obs = new Observer();
  await obs.open(group);
  const node = new SparkplugNode(opts);
  node.start();
  try {
    await obs.waitFor('births', () => obs.of('DBIRTH').length === 2);
    const [nbirth] = obs.of('NBIRTH');
    assert.equal(nbirth.topic, `spBv1.0/${group}/NBIRTH/edge1`);
    assert.ok(
      [...obs.of('NBIRTH'), ...obs.of('DBIRTH')].every((m) => m.qos === 0),
      'births go at QoS 0',
    );
    assert.equal(nbirth.p.seq, 0);
    assert.ok(nbirth.p.timestamp! > 0);
    const bd = metric(nbirth.p, 'bdSeq');
    assert.equal(bd.datatype, DT.Int64, SPEC.nbirthBdSeq);
    assert.equal(bd.value, node.currentBdSeq);
    assert.equal(bd.value, 0, 'first session of a fresh state file');
    const rebirth = metric(nbirth.p, 'Node Control/Rebirth');
    assert.equal(rebirth.datatype, DT.Boolean);
    assert.equal(rebirth.value, false);
    assert.ok(
      nbirth.p.metrics.some((m) => m.alias !== undefined),
      'the node uses aliases (so the rule below applies)',
    );
    assert.equal(rebirth.alias, undefined, SPEC.rebirthNoAlias);
    for (const m of nbirth.p.metrics)
      assert.notEqual(m.datatype, undefined, `${m.name}: ${SPEC.birthDatatype}`);

    const d1 = obs.of('DBIRTH', 'cam1')[0].p;
    const d2 = obs.of('DBIRTH', 'cam2')[0].p;
    assert.deepEqual([d1.seq, d2.seq], [1, 2]);
    const expected: [string, number][] = [
      ['Inspection/Anomaly Score', DT.Float],
      ['Inspection/Anomalous', DT.Boolean],
      ['Inspection/Defect Count', DT.Int32],
      ['Inspection/Region Summary', DT.String],
      ['Performance/FPS', DT.Float],
      ['Performance/Latency ms', DT.Float],
      ['Camera/State', DT.String],
      ['Config/Class Name', DT.String],
      ['Config/Thresholds/Image', DT.Double],
      ['Config/Thresholds/Pixel', DT.Double],
      ['Config/Thresholds/Clear', DT.Double],
    ];
    for (const [name, dt] of expected) {
      assert.equal(metric(d1, name).datatype, dt, `${name}: ${SPEC.birthDatatype}`);
      assert.equal(typeof metric(d1, name).alias, 'number', `${name} has an alias`);
    }
    assert.equal(metric(d1, 'Config/Class Name').value, 'screw');
    assert.equal(metric(d2, 'Config/Class Name').value, 'metal nut');
    assert.equal(metric(d1, 'Config/Thresholds/Pixel').value, 0.4);
    // aliases unique across the whole edge node
    const aliases = [nbirth.p, d1, d2]
      .flatMap((p) => p.metrics.map((m) => m.alias))
      .filter((a) => a !== undefined);
    assert.equal(new Set(aliases).size, aliases.length);
  } finally {
    await node.stop();
    await obs.close();
  }
});

test('DDATA only for changed metrics, alias-only, with seq wrapping 255 -> 0', async () => {
  const { opts, group } = setup({ cameras: [{ id: 'cam1', className: 'screw' }] });
  const obs = new Observer();
  await obs.open(group);
  const node = new SparkplugNode(opts);
  node.start();
  try {
    await obs.waitFor('DBIRTH', () => obs.of('DBIRTH').length === 1);
    const birth = obs.of('DBIRTH')[0].p;
    const aliasOf = (name: string) => metric(birth, name).alias;
    node.update('cam1', { className: 'screw' }); // unchanged: nothing published
    node.update('cam1', { score: 0.25, anomalous: false });
    for (let i = 1; i <= 300; i++) node.update('cam1', { score: 0.25 + i / 1000 });
    await obs.waitFor('301 DDATA', () => obs.of('DDATA').length === 301);
    const ddata = obs.of('DDATA');
    const first = ddata[0].p;
    assert.deepEqual(
      first.metrics.map((m) => m.alias).sort(),
      [aliasOf('Inspection/Anomaly Score')].sort(),
      'anomalous was already false: only the score changed',
    );
    assert.ok(
      first.metrics.every((m) => m.name === undefined),
      'DDATA carries aliases, not names',
    );
    for (const m of ddata.flatMap((d) => d.p.metrics)) {
      assert.equal(m.datatype, undefined, `alias ${m.alias}: ${SPEC.dataNoDatatype}`);
      assert.equal(typeof m.value, 'number', 'the value is there without its datatype');
    }
    assert.ok(Math.abs((first.metrics[0].value as number) - 0.25) < 1e-6);
    // the whole session's sequence: NBIRTH 0, DBIRTH 1, then DDATA 2, 3, ... wrapping after 255
    const seqs = [...obs.of('NBIRTH'), ...obs.of('DBIRTH'), ...ddata].map((m) => m.p.seq);
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => i % 256),
    );
    assert.ok(seqs.includes(255) && seqs.lastIndexOf(0) > 0, 'the sequence wrapped');
  } finally {
    await node.stop();
    await obs.close();
  }
});

test('the will is an NDEATH at QoS 1 whose bdSeq matches the NBIRTH; a new session increments bdSeq', async () => {
  const { opts, group } = setup();
  writeFileSync(opts.bdSeqFile, JSON.stringify({ bdSeq: 254 }));
  const obs = new Observer();
  await obs.open(group);
  const node = new SparkplugNode(opts);
  node.start();
  try {
    await obs.waitFor('births', () => obs.of('DBIRTH').length === 2);
    const bd1 = metric(obs.of('NBIRTH')[0].p, 'bdSeq').value;
    assert.equal(bd1, 255, 'persisted 254 + 1');
    // kill the TCP connection without a DISCONNECT: the broker must deliver the will
    (node as unknown as { client: MqttClient }).client.stream.destroy();
    await obs.waitFor('NDEATH', () => obs.of('NDEATH').length === 1);
    assert.equal(obs.of('NDEATH')[0].qos, 1, 'the will is QoS 1');
    const death = obs.of('NDEATH')[0].p;
    assert.equal(metric(death, 'bdSeq').value, bd1);
    assert.equal(metric(death, 'bdSeq').datatype, DT.Int64, SPEC.willBdSeq);
    // the node reconnects by itself with bdSeq 255 + 1 = 0 (wrap) and births again
    await obs.waitFor('second NBIRTH', () => obs.of('NBIRTH').length === 2);
    const n2 = obs.of('NBIRTH')[1].p;
    assert.equal(metric(n2, 'bdSeq').value, 0);
    assert.equal(n2.seq, 0);
    assert.deepEqual(JSON.parse(readFileSync(opts.bdSeqFile, 'utf8')), { bdSeq: 0 });
  } finally {
    await node.stop();
  }
  // a graceful stop publishes the NDEATH itself, with the current bdSeq
  await obs.waitFor('NDEATH on stop', () => obs.of('NDEATH').length === 2);
  assert.equal(metric(obs.of('NDEATH')[1].p, 'bdSeq').value, 0);
  await obs.close();
});

test('NCMD Node Control/Rebirth republishes NBIRTH (seq 0, same bdSeq) and every DBIRTH', async () => {
  const { opts, group } = setup();
  const obs = new Observer();
  await obs.open(group);
  const node = new SparkplugNode(opts);
  node.start();
  try {
    await obs.waitFor('births', () => obs.of('DBIRTH').length === 2);
    node.update('cam1', { score: 0.9 });
    await obs.waitFor('DDATA', () => obs.of('DDATA').length === 1);
    await obs.publish(
      `spBv1.0/${group}/NCMD/edge1`,
      encodeSparkplug({
        timestamp: Date.now(),
        metrics: [{ name: 'Node Control/Rebirth', datatype: DT.Boolean, boolean_value: true }],
      }),
    );
    await obs.waitFor('rebirth', () => obs.of('DBIRTH').length === 4);
    const [n1, n2] = obs.of('NBIRTH').map((m) => m.p);
    assert.equal(n2.seq, 0);
    assert.equal(metric(n2, 'bdSeq').value, metric(n1, 'bdSeq').value);
    const again = obs.of('DBIRTH', 'cam1')[1].p;
    assert.ok(
      Math.abs((metric(again, 'Inspection/Anomaly Score').value as number) - 0.9) < 1e-6,
      'births carry current values',
    );
    // a garbage NCMD is ignored and the node keeps working
    await obs.publish(`spBv1.0/${group}/NCMD/edge1`, Buffer.from([0xff, 0xff, 0xff]));
    node.update('cam1', { score: 0.1 });
    await obs.waitFor('DDATA after garbage', () => obs.of('DDATA').length === 2);
  } finally {
    await node.stop();
    await obs.close();
  }
});

test("commands without datatypes, as the specification recommends, are read with the births' datatypes", async () => {
  const { opts, group } = setup({ cameras: [{ id: 'cam1', className: 'screw' }] });
  const obs = new Observer();
  await obs.open(group);
  const decider = new Decider({
    id: 'cam1',
    className: 'screw',
    thresholds: { image: 0.5, pixel: 0.4, minRegionAreaPct: 0 },
    decision: { k: 1, n: 1, cooldownMs: 0, severity: { warning: 0.6, critical: 0.9 } },
  });
  const node = new SparkplugNode(opts);
  node.onWrite((w) => {
    const r = decider.applySettings({ className: w.className, thresholds: w.thresholds });
    return { className: r.className, ...thresholdMetrics(r.thresholds) };
  });
  node.start();
  try {
    await obs.waitFor('births', () => obs.of('DBIRTH').length === 1);
    const birth = obs.of('DBIRTH', 'cam1')[0].p;
    // SPEC.dataNoDatatype: a DCMD by alias with no datatype, the value in the field of the birth's type
    await obs.publish(
      `spBv1.0/${group}/DCMD/edge1/cam1`,
      encodeSparkplug({
        timestamp: Date.now(),
        metrics: [
          { alias: metric(birth, 'Config/Thresholds/Image').alias, double_value: 0.65 },
          { alias: metric(birth, 'Config/Class Name').alias, string_value: 'hex bolt' },
        ],
      }),
    );
    await obs.waitFor('DDATA after write', () => obs.of('DDATA', 'cam1').length === 1);
    assert.equal(decider.getThresholds().image, 0.65);
    assert.equal(decider.getClassName(), 'hex bolt');
    // and an NCMD rebirth by name without a datatype (the NBIRTH gave it no alias to use)
    await obs.publish(
      `spBv1.0/${group}/NCMD/edge1`,
      encodeSparkplug({
        timestamp: Date.now(),
        metrics: [{ name: 'Node Control/Rebirth', boolean_value: true }],
      }),
    );
    await obs.waitFor('rebirth', () => obs.of('NBIRTH').length === 2);
  } finally {
    await node.stop();
    await obs.close();
  }
});

test('DCMD threshold and class-name writes take effect; bad writes change nothing', async () => {
  const { opts, group } = setup();
  const obs = new Observer();
  await obs.open(group);
  const decider = new Decider({
    id: 'cam1',
    className: 'screw',
    thresholds: { image: 0.5, pixel: 0.4, minRegionAreaPct: 0 },
    decision: { k: 1, n: 1, cooldownMs: 0, severity: { warning: 0.6, critical: 0.9 } },
  });
  const node = new SparkplugNode(opts);
  node.onWrite((w) => {
    const r = decider.applySettings({ className: w.className, thresholds: w.thresholds });
    return { className: r.className, ...thresholdMetrics(r.thresholds) };
  });
  const rejected: unknown[] = [];
  node.on('write-rejected', (r) => rejected.push(r));
  node.start();
  const dcmd = (metrics: Parameters<typeof encodeSparkplug>[0]['metrics']) =>
    obs.publish(`spBv1.0/${group}/DCMD/edge1/cam1`, encodeSparkplug({ timestamp: Date.now(), metrics }));
  try {
    await obs.waitFor('births', () => obs.of('DBIRTH').length === 2);
    const birth = obs.of('DBIRTH', 'cam1')[0].p;
    const nameOf = new Map(birth.metrics.map((m) => [m.alias, m.name]));

    await dcmd([{ name: 'Config/Thresholds/Image', datatype: DT.Double, double_value: 0.7 }]);
    await obs.waitFor('DDATA after write', () => obs.of('DDATA', 'cam1').length === 1);
    assert.equal(decider.getThresholds().image, 0.7);
    const written = Object.fromEntries(
      obs.of('DDATA', 'cam1')[0].p.metrics.map((m) => [nameOf.get(m.alias), m.value]),
    );
    // clear follows image when it was never set: the node reports the effective value
    assert.deepEqual(written, { 'Config/Thresholds/Image': 0.7, 'Config/Thresholds/Clear': 0.7 });

    // by alias, as SCADA hosts usually write
    await dcmd([
      { alias: metric(birth, 'Config/Class Name').alias, datatype: DT.String, string_value: 'bolt' },
    ]);
    await obs.waitFor('class DDATA', () => obs.of('DDATA', 'cam1').length === 2);
    assert.equal(decider.getClassName(), 'bolt');

    const before = { th: decider.getThresholds(), name: decider.getClassName() };
    const bad: [string, Parameters<typeof dcmd>[0]][] = [
      ['out of range', [{ name: 'Config/Thresholds/Image', datatype: DT.Double, double_value: 1.5 }]],
      ['wrong type', [{ name: 'Config/Thresholds/Pixel', datatype: DT.String, string_value: 'high' }]],
      ['read-only', [{ name: 'Inspection/Anomaly Score', datatype: DT.Float, float_value: 0 }]],
      ['unknown', [{ name: 'Config/Nope', datatype: DT.Double, double_value: 0.1 }]],
      ['empty name', [{ name: 'Config/Class Name', datatype: DT.String, string_value: '' }]],
      [
        'one bad among good',
        [
          { name: 'Config/Thresholds/Pixel', datatype: DT.Double, double_value: 0.2 },
          { name: 'Config/Thresholds/Clear', datatype: DT.Double, double_value: 0.9 },
        ],
      ],
    ];
    for (const [, metrics] of bad) await dcmd(metrics);
    // oversized: a class name of 100 kB
    await dcmd([{ name: 'Config/Class Name', datatype: DT.String, string_value: 'x'.repeat(100_000) }]);
    await obs.waitFor('all rejections', () => rejected.length === bad.length + 1);
    await obs.sync();
    assert.equal(obs.of('DDATA', 'cam1').length, 2, 'no DDATA for rejected writes');
    assert.deepEqual({ th: decider.getThresholds(), name: decider.getClassName() }, before);
  } finally {
    await node.stop();
    await obs.close();
  }
});

test('a camera going offline publishes DDEATH; coming back publishes DBIRTH', async () => {
  const { opts, group } = setup();
  const obs = new Observer();
  await obs.open(group);
  const node = new SparkplugNode(opts);
  node.start();
  try {
    await obs.waitFor('births', () => obs.of('DBIRTH').length === 2);
    node.setCameraOnline('cam2', false);
    await obs.waitFor('DDEATH', () => obs.of('DDEATH', 'cam2').length === 1);
    assert.equal(obs.of('DDEATH', 'cam2')[0].p.seq, 3);
    node.update('cam2', { score: 0.5 }); // offline: recorded, not published
    node.setCameraOnline('cam2', true);
    await obs.waitFor('DBIRTH again', () => obs.of('DBIRTH', 'cam2').length === 2);
    const rebirth = obs.of('DBIRTH', 'cam2')[1].p;
    assert.equal(rebirth.seq, 4);
    assert.equal(metric(rebirth, 'Camera/State').value, 'online');
    assert.equal(metric(rebirth, 'Inspection/Anomaly Score').value, 0.5);
    assert.equal(obs.of('DDATA', 'cam2').length, 0);
  } finally {
    await node.stop();
    await obs.close();
  }
});

test('with a primary host: no births until its STATE is online; host offline ends the session', async () => {
  const { opts, group } = setup({ primaryHostId: `scada-${groupNo}` });
  const stateTopic = `spBv1.0/STATE/${opts.primaryHostId}`;
  const obs = new Observer();
  await obs.open(group);
  await obs.publish(stateTopic, JSON.stringify({ online: false, timestamp: Date.now() }), true);
  const node = new SparkplugNode(opts);
  const waiting = new Promise<void>((resolve) => {
    const check = () => (node.state === 'waiting-for-host' ? resolve() : setTimeout(check, 10));
    check();
  });
  node.start();
  try {
    await waiting;
    await obs.sync();
    assert.equal(obs.of('NBIRTH').length, 0, 'no NBIRTH while the host is offline');
    const t1 = Date.now() + 1;
    await obs.publish(stateTopic, JSON.stringify({ online: true, timestamp: t1 }), true);
    await obs.waitFor('births', () => obs.of('DBIRTH').length === 2);
    const bd1 = metric(obs.of('NBIRTH')[0].p, 'bdSeq').value as number;
    // a stale OFFLINE (older timestamp) is ignored
    await obs.publish(stateTopic, JSON.stringify({ online: false, timestamp: t1 - 1000 }), false);
    await obs.sync();
    assert.equal(obs.of('NDEATH').length, 0);
    await obs.publish(stateTopic, JSON.stringify({ online: false, timestamp: t1 + 1 }), true);
    await obs.waitFor('NDEATH', () => obs.of('NDEATH').length === 1);
    assert.equal(metric(obs.of('NDEATH')[0].p, 'bdSeq').value, bd1);
    await new Promise<void>((resolve) => {
      const check = () =>
        node.state === 'waiting-for-host' && node.currentBdSeq === bd1 + 1
          ? resolve()
          : setTimeout(check, 10);
      check();
    });
    await obs.sync();
    assert.equal(obs.of('NBIRTH').length, 1, 'the new session waits for the host');
    await obs.publish(stateTopic, JSON.stringify({ online: true, timestamp: t1 + 2 }), true);
    await obs.waitFor('second NBIRTH', () => obs.of('NBIRTH').length === 2);
    assert.equal(metric(obs.of('NBIRTH')[1].p, 'bdSeq').value, bd1 + 1);
  } finally {
    await node.stop();
    await obs.publish(stateTopic, '', true); // clear the retained STATE
    await obs.close();
  }
});

test('the bdSeq store starts at 0 without a file or with a corrupt one, and wraps after 255', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bdseq-'));
  const file = join(dir, 'sub', 'bdseq.json');
  const store = new BdSeqStore(file);
  assert.equal(store.last(), undefined);
  assert.deepEqual([store.next().value, store.next().value], [0, 1]);
  writeFileSync(file, 'garbage');
  assert.equal(store.next().value, 0);
  writeFileSync(file, JSON.stringify({ bdSeq: 255 }));
  assert.equal(store.next().value, 0);
  writeFileSync(file, JSON.stringify({ bdSeq: 300 }));
  assert.equal(store.next().value, 0, 'out of range counts as corrupt');
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { bdSeq: 0 });
});
