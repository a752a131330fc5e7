// The Decider end to end on hand-made maps, with the event builder after it as the service chains
// them: events on raise and clear, regions in frame pixels, run-time threshold and class-name
// changes, and bad input/settings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Decider,
  SettingError,
  DecisionInputError,
  type DecideInput,
  type DeciderOptions,
  type DecisionCamera,
} from '../../src/postprocess/decide.js';
import { AlarmEventBuilder } from '../../src/events/alarm-events.js';
import type { ModelProvenance } from '../../src/events/provenance.js';

const model: ModelProvenance = {
  bundleSha256: 'a'.repeat(64),
  version: 'unversioned',
  kind: 'untrained-test',
  untrained: true,
  architecture: 'tiny',
  imageSize: 32,
  hsf: true,
  checkpoints: {},
};
const ctx = { site: 'plant1', line: 'lineA', model };

function camera(over: Partial<DecisionCamera> = {}): DecisionCamera {
  return {
    id: 'cam1',
    className: 'screw',
    thresholds: { image: 0.5, pixel: 0.5, minRegionAreaPct: 0 },
    decision: { k: 1, n: 1, cooldownMs: 0, severity: { warning: 0.6, critical: 0.9 } },
    ...over,
  };
}

/** A Decider whose decide() also returns the event built from the decision. */
function decider(cam: DecisionCamera, opts?: DeciderOptions) {
  const d = new Decider(cam, opts);
  const events = new AlarmEventBuilder(ctx);
  return {
    decide(input: DecideInput) {
      const r = d.decide(input);
      return { ...r, event: events.fromDecision(r) };
    },
    setThresholds: (patch: unknown) => d.setThresholds(patch),
    setClassName: (name: unknown) => d.setClassName(name),
    getThresholds: () => d.getThresholds(),
    getClassName: () => d.getClassName(),
  };
}

const S = 32;
function frame(
  seq: number,
  score: number,
  rect?: { x: number; y: number; w: number; h: number; v: number },
): DecideInput {
  const map = new Float32Array(S * S).fill(0.05);
  if (rect)
    for (let y = rect.y; y < rect.y + rect.h; y++)
      for (let x = rect.x; x < rect.x + rect.w; x++) map[y * S + x] = rect.v;
  return {
    seq,
    capturedAtWall: 1_700_000_000_000 + seq * 100,
    capturedAtMono: seq * 100,
    score,
    scoreWithoutHsf: score - 0.01,
    mapSmoothed: map,
    mapSize: S,
    // 320x320 ROI at (40, 20) of a 400x400 frame: one map pixel = 10x10 frame pixels
    source: { width: 400, height: 400, roi: { x: 40, y: 20, width: 320, height: 320 } },
    timings: { preprocess: 2, engine: 30 },
  };
}

test('a raise event carries regions in frame pixels, severity and provenance; the clear references it', () => {
  const d = decider(camera(), { now: () => 1_800_000_000_000 });
  assert.equal(d.decide(frame(0, 0.2)).event, undefined);
  const raised = d.decide({ ...frame(1, 0.7, { x: 3, y: 4, w: 5, h: 2, v: 0.8 }), partId: 'P-17' });
  assert.equal(raised.transition, 'raise');
  const ev = raised.event!;
  assert.equal(ev.transition, 'raise');
  assert.equal(ev.alarmId, ev.id);
  assert.equal(ev.active, true);
  assert.equal(ev.severity, 'warning');
  assert.equal(ev.partId, 'P-17');
  assert.equal(ev.className, 'screw');
  assert.equal(ev.threshold, 0.5);
  assert.equal(ev.thresholds.clear, 0.5, 'clear defaults to the image threshold');
  assert.equal(ev.capturedAt, new Date(1_700_000_000_100).toISOString());
  assert.equal(ev.regionCount, 1);
  assert.deepEqual(
    { x: ev.regions[0].x, y: ev.regions[0].y, w: ev.regions[0].width, h: ev.regions[0].height },
    { x: 40 + 3 * 10, y: 20 + 4 * 10, w: 50, h: 20 },
  );
  assert.equal(ev.regions[0].areaPx, 5 * 2 * 100);
  assert.equal(ev.model.bundleSha256, model.bundleSha256);
  assert.equal(ev.latencyMs.engine, 30);
  assert.ok(ev.latencyMs.decide !== undefined && ev.latencyMs.decide >= 0);

  assert.equal(d.decide(frame(2, 0.95)).event, undefined, 'still active: no event');
  const cleared = d.decide(frame(3, 0.1));
  assert.equal(cleared.transition, 'clear');
  assert.equal(cleared.event!.alarmId, ev.id);
  assert.equal(cleared.event!.active, false);
  assert.equal(cleared.event!.alarm.peakScore, 0.95);
  assert.equal(cleared.event!.alarm.frames, 2);
  assert.equal(cleared.event!.alarm.durationMs, 200);
  assert.ok(cleared.event!.id > ev.id, 'ids sort in event order');
});

test('every frame gets a detection, with the per-frame verdict', () => {
  const d = decider(
    camera({ decision: { k: 2, n: 3, cooldownMs: 0, severity: { warning: 0.6, critical: 0.9 } } }),
  );
  const r = d.decide(frame(0, 0.8, { x: 0, y: 0, w: 4, h: 4, v: 0.9 }));
  assert.equal(r.detection.anomalous, true);
  assert.equal(r.detection.regions.length, 1);
  assert.equal(r.event, undefined, 'k=2: one frame is not enough');
  assert.equal(r.active, false);
  assert.equal(r.severity, 'warning');
});

test('thresholds change at run time and apply from the next frame', () => {
  const d = decider(camera());
  assert.equal(d.decide(frame(0, 0.6)).transition, 'raise');
  assert.equal(d.decide(frame(1, 0.1)).transition, 'clear');
  const th = d.setThresholds({ image: 0.7 });
  assert.deepEqual(th, { image: 0.7, pixel: 0.5, clear: 0.7, minRegionAreaPct: 0 });
  assert.equal(d.decide(frame(2, 0.6)).transition, undefined);
  assert.equal(d.decide(frame(3, 0.75)).event!.threshold, 0.7);
  d.setThresholds({ clear: 0.2 });
  assert.equal(d.decide(frame(4, 0.3)).transition, undefined, 'hysteresis: 0.3 >= clear 0.2');
  assert.equal(d.decide(frame(5, 0.1)).transition, 'clear');
});

test('bad threshold writes throw and change nothing', () => {
  const d = decider(camera({ thresholds: { image: 0.5, pixel: 0.4, clear: 0.3, minRegionAreaPct: 0.1 } }));
  const before = d.getThresholds();
  assert.throws(() => d.setThresholds({ image: 1.5 }), SettingError);
  assert.throws(() => d.setThresholds({ image: 'high' }), /invalid thresholds: image/);
  assert.throws(() => d.setThresholds({ bogus: 1 }), /invalid thresholds/);
  assert.throws(() => d.setThresholds({ image: 0.2 }), /clear \(0.3\) must not exceed image \(0.2\)/);
  assert.throws(() => d.setThresholds(null), SettingError);
  assert.deepEqual(d.getThresholds(), before);
});

test('class name changes are validated and show up in the next event', () => {
  const d = decider(camera());
  assert.throws(() => d.setClassName(''), /invalid class name/);
  assert.throws(() => d.setClassName('a\u0000b'), /control characters/);
  assert.throws(() => d.setClassName(42), SettingError);
  assert.equal(d.getClassName(), 'screw');
  assert.equal(d.setClassName('  metal nut '), 'metal nut');
  assert.equal(d.decide(frame(0, 0.9)).event!.className, 'metal nut');
});

test('bad frames throw a clear error and leave the decider usable', () => {
  const d = decider(camera());
  assert.throws(() => d.decide({ ...frame(0, NaN) }), DecisionInputError);
  assert.throws(() => d.decide({ ...frame(0, 0.9), mapSize: 16 }), /expected 16x16/);
  assert.equal(d.decide(frame(1, 0.9)).transition, 'raise');
});

test('the camera rotation applies when the source does not carry one', () => {
  // 400x200 captured, rotated 90 -> upright 200x400; ROI = the whole upright frame
  const d = decider(camera({ rotate: 90 }));
  const input = frame(0, 0.9, { x: 0, y: 0, w: 1, h: 1, v: 0.9 });
  input.source = { width: 400, height: 200, roi: { x: 0, y: 0, width: 200, height: 400 } };
  const r = d.decide(input);
  // a clockwise turn brings the captured bottom-left corner to the upright top-left
  const box = r.detection.regions[0];
  assert.equal(box.x, 0);
  assert.equal(box.y + box.height, 200);
  assert.ok(box.width > box.height, 'the tall upright pixel is wide in the captured frame');
});

test('the decision is plain data; one builder keeps the open alarm of each camera apart', () => {
  const cam1 = new Decider(camera(), { now: () => 1_800_000_000_000 });
  const cam2 = new Decider(camera({ id: 'cam2' }), { now: () => 1_800_000_000_000 });
  const events = new AlarmEventBuilder(ctx);
  const r1 = cam1.decide({ ...frame(0, 0.8), partId: 'P-1' });
  assert.equal('event' in r1, false, 'the decision holds no event document');
  assert.equal(r1.alarm?.partId, 'P-1');
  assert.equal(r1.alarm?.decidedAtWall, 1_800_000_000_000);
  assert.deepEqual(r1.alarm?.window, { k: 1, n: 1, hits: 1 });
  const raise1 = events.fromDecision(r1)!;
  const raise2 = events.fromDecision(cam2.decide(frame(0, 0.9)))!;
  assert.equal(raise2.cameraId, 'cam2');
  const clear1 = events.fromDecision(cam1.decide(frame(1, 0.1)))!;
  assert.equal(clear1.alarmId, raise1.id);
  const clear2 = events.fromDecision(cam2.decide(frame(1, 0.1)))!;
  assert.equal(clear2.alarmId, raise2.id);
  assert.equal(events.fromDecision(cam1.decide(frame(2, 0.1))), undefined, 'no transition: no event');
});
