// The decision stage on a 518 x 518 smoothed map from a 1920x1080 frame (ROI 1080x1080): a normal
// frame (no pixel over threshold: no OpenCV call), a frame with defects (three blobs: connected
// components over their bounding box), and the raise-event path (regions + event building).
import { measure, summarize, type Benchmark } from '../harness.js';
import { AlarmEventBuilder } from '../../events/alarm-events.js';
import { Decider, type DecideInput } from '../../postprocess/decide.js';

const S = 518;
const source = { width: 1920, height: 1080, roi: { x: 420, y: 0, width: 1080, height: 1080 } };

function map(defects: boolean): Float32Array {
  const m = new Float32Array(S * S);
  for (let i = 0; i < m.length; i++) m[i] = 0.05 + (0.2 * ((i * 2654435761) % 1000)) / 1000;
  if (defects)
    for (const [cx, cy, r] of [
      [100, 120, 14],
      [300, 310, 30],
      [420, 80, 8],
    ])
      for (let y = cy - r; y <= cy + r; y++)
        for (let x = cx - r; x <= cx + r; x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) m[y * S + x] = 0.9;
  return m;
}

function decider(): Decider {
  return new Decider({
    id: 'cam1',
    className: 'screw',
    thresholds: { image: 0.5, pixel: 0.5, minRegionAreaPct: 0.01 },
    decision: { k: 1, n: 1, cooldownMs: 0, severity: { warning: 0.6, critical: 0.9 } },
  });
}

function eventBuilder(): AlarmEventBuilder {
  return new AlarmEventBuilder({
    site: 'site',
    line: 'line',
    model: {
      bundleSha256: '0'.repeat(64),
      version: 'unversioned',
      kind: 'untrained-test',
      untrained: true,
      architecture: 'bench',
      imageSize: S,
      hsf: true,
      checkpoints: {},
    },
  });
}

function input(seq: number, score: number, m: Float32Array): DecideInput {
  return {
    seq,
    capturedAtWall: Date.now(),
    score,
    scoreWithoutHsf: score,
    mapSmoothed: m,
    mapSize: S,
    source,
  };
}

export const benchmarks: Benchmark[] = [
  {
    name: 'decide.normal_518',
    description: 'ms per decision on a normal 518x518 map (thresholds, temporal filter; no regions)',
    async run() {
      const d = decider();
      const m = map(false);
      let seq = 0;
      return summarize(
        'decide.normal_518',
        'ms',
        await measure(() => d.decide(input(seq++, 0.1, m)), { iterations: 200, warmup: 5 }),
      );
    },
  },
  {
    name: 'decide.defects_518',
    description:
      'ms per decision on a 518x518 map with 3 defect blobs, alarm staying active (regions, no event)',
    async run() {
      const d = decider();
      const m = map(true);
      let seq = 0;
      d.decide(input(seq++, 0.9, m));
      return summarize(
        'decide.defects_518',
        'ms',
        await measure(() => d.decide(input(seq++, 0.9, m)), { iterations: 200, warmup: 5 }),
      );
    },
  },
  {
    name: 'decide.raise_event_518',
    description: 'ms per raise + clear pair on a map with 3 defect blobs (regions and two validated events)',
    async run() {
      const d = decider();
      const events = eventBuilder();
      const hot = map(true);
      const cold = map(false);
      let seq = 0;
      const samples = await measure(
        () => {
          events.fromDecision(d.decide(input(seq++, 0.9, hot)));
          events.fromDecision(d.decide(input(seq++, 0.1, cold)));
        },
        { iterations: 100, warmup: 5 },
      );
      return summarize('decide.raise_event_518', 'ms', samples);
    },
  },
];
