// The edge node built from a real config and fed by real Decider results, as the service wires it:
// options from the config, DBIRTH thresholds from the cameras' config, per-frame DDATA from
// metricsFromDecision, and a bdSeq file under a temporary folder. Decoded independently.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { Mosquitto } from '../helpers/mosquitto.js';
import { parseConfigText } from '../../src/config/load.js';
import { sparkplugOptionsFromConfig } from '../../src/mqtt/sparkplug/from-config.js';
import { SparkplugNode } from '../../src/mqtt/sparkplug/node.js';
import { metricsFromDecision } from '../../src/mqtt/sparkplug/metrics.js';
import { AlarmEventBuilder } from '../../src/events/alarm-events.js';
import { Decider } from '../../src/postprocess/decide.js';
import { decodeSparkplug, type DecodedPayload } from './sparkplug-proto.js';

const broker = new Mosquitto();
before(async () => broker.start());
after(async () => broker.stop());

test('config -> options -> births, and decisions -> DDATA', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spb-wiring-'));
  const cfg = parseConfigText(
    `
site: plant7
line: l2
model: { bundle: /nonexistent }
mqtt:
  url: ${broker.url}
  sparkplug: { enabled: true, groupId: wiring, bdSeqFile: ${join(dir, 'bdseq.json')} }
cameras:
  - id: camA
    className: screw
    source: { kind: synthetic }
    thresholds: { image: 0.6, pixel: 0.55, minRegionAreaPct: 0 }
`,
    'wiring.yaml',
    {},
  );
  const opts = sparkplugOptionsFromConfig(cfg, { softwareVersion: '0.0.0-test' });
  assert.equal(opts.edgeNodeId, 'plant7-l2');
  assert.equal(opts.url, broker.url);
  assert.ok(String(opts.mqtt?.clientId).endsWith('-spb'));

  const seen: { topic: string; p: DecodedPayload }[] = [];
  const obs = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  obs.on('message', (topic, payload) => seen.push({ topic, p: decodeSparkplug(payload) }));
  await obs.subscribeAsync('spBv1.0/wiring/#', { qos: 1 });
  const waitFor = async (pred: () => boolean) => {
    for (let i = 0; !pred(); i++) {
      if (i > 500) throw new Error(`timeout; saw ${seen.map((s) => s.topic).join(', ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  const cam = cfg.cameras[0];
  const decider = new Decider(cam);
  const events = new AlarmEventBuilder({
    site: cfg.site,
    line: cfg.line,
    model: {
      bundleSha256: '1'.repeat(64),
      version: 'unversioned',
      kind: 'untrained-test',
      untrained: true,
      architecture: 't',
      imageSize: 16,
      hsf: true,
      checkpoints: {},
    },
  });
  const node = new SparkplugNode(opts);
  node.start();
  try {
    await waitFor(() => seen.some((s) => s.topic === 'spBv1.0/wiring/DBIRTH/plant7-l2/camA'));
    const birth = seen.find((s) => s.topic.includes('DBIRTH'))!.p;
    const byName = new Map(birth.metrics.map((m) => [m.name, m]));
    assert.equal(byName.get('Config/Thresholds/Image')!.value, 0.6);
    assert.equal(byName.get('Config/Thresholds/Clear')!.value, 0.6, 'clear defaults to image');
    assert.equal(byName.get('Config/Thresholds/Pixel')!.value, 0.55);
    const nameOf = new Map(birth.metrics.map((m) => [m.alias, m.name]));

    const S = 16;
    const map = new Float32Array(S * S);
    for (let y = 2; y < 6; y++) for (let x = 3; x < 9; x++) map[y * S + x] = 0.9;
    const r = decider.decide({
      seq: 0,
      capturedAtWall: Date.now(),
      score: 0.7, // default severity levels: warning 0.5, critical 0.8
      scoreWithoutHsf: 0.65,
      mapSmoothed: map,
      mapSize: S,
      source: { width: 160, height: 160, roi: { x: 0, y: 0, width: 160, height: 160 } },
    });
    const event = events.fromDecision(r);
    node.update(cam.id, {
      ...metricsFromDecision({
        ...r.detection,
        active: r.active,
        severity: r.severity,
        thresholds: decider.getThresholds(),
        eventId: event?.id,
      }),
      frames: 1,
      fps: 4,
      latencyMs: 55.5,
    });
    await waitFor(() => seen.some((s) => s.topic.includes('DDATA')));
    const data = Object.fromEntries(
      seen.find((s) => s.topic.includes('DDATA'))!.p.metrics.map((m) => [nameOf.get(m.alias), m.value]),
    );
    assert.equal(data['Inspection/Anomalous'], true);
    assert.equal(data['Inspection/Alarm Active'], true);
    assert.equal(data['Inspection/Severity'], 'warning');
    assert.equal(data['Inspection/Defect Count'], 1);
    assert.equal(data['Inspection/Last Event Id'], event!.id);
    assert.equal(data['Inspection/Region Summary'], '1 region; top 60x40 at (30,20) 9.38% max 0.900');
    assert.equal(data['Inspection/Frames'], 1);
    assert.ok(!('Config/Thresholds/Image' in data), 'unchanged thresholds are not repeated');
  } finally {
    await node.stop();
    await obs.endAsync();
  }
});
