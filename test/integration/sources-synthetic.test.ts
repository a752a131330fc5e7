// The synthetic production line rendered with real OpenCV: deterministic by seed, and its truth
// masks checked against an independent rendering of the same parts without defects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadOpenCV } from '../../src/util/opencv.js';
import { SyntheticRenderer } from '../../src/sources/synthetic/render.js';
import { SyntheticSource } from '../../src/sources/synthetic.js';
import { planFrame, partProperties, DEFECT_KINDS } from '../../src/sources/synthetic/scene.js';

const cv = loadOpenCV();
const opts = { width: 320, height: 192, defectRate: 1, seed: 7 };

test('same seed and frame number: identical pixels; another seed: a different line', () => {
  const a = new SyntheticRenderer(opts).render(5);
  const b = new SyntheticRenderer(opts).render(5);
  const c = new SyntheticRenderer({ ...opts, seed: 8 }).render(5);
  assert.ok(a.image.getData().equals(b.image.getData()));
  assert.ok(!a.image.getData().equals(c.image.getData()));
  assert.deepEqual(a.defects, b.defects);
});

test('the belt moves: consecutive frames differ', () => {
  const r = new SyntheticRenderer({ ...opts, defectRate: 0 });
  assert.ok(!r.render(0).image.getData().equals(r.render(1).image.getData()));
});

test('truth masks: every pixel a defect changed is in the mask, and most mask pixels were changed', () => {
  const defective = new SyntheticRenderer(opts);
  // defectRate 0 draws the same parts (the plan draws kind, size and pose before the defect)
  const clean = new SyntheticRenderer({ ...opts, defectRate: 0 });
  const kinds = new Set<string>();
  let framesWithDefects = 0;
  for (let i = 0; i < 120; i += 3) {
    const d = defective.render(i);
    const c = clean.render(i);
    const diff = d.image.absdiff(c.image).cvtColor(cv.COLOR_BGR2GRAY).threshold(0, 255, cv.THRESH_BINARY);
    const changed = diff.countNonZero();
    if (!d.truthMask) {
      assert.equal(changed, 0, `frame ${i}: pixels changed but no truth mask`);
      assert.deepEqual(d.defects, []);
      continue;
    }
    framesWithDefects++;
    for (const k of d.defects) kinds.add(k);
    const outside = diff.bitwiseAnd(d.truthMask.bitwiseNot()).countNonZero();
    assert.equal(outside, 0, `frame ${i}: ${outside} changed pixels outside the truth mask`);
    const maskPx = d.truthMask.countNonZero();
    assert.ok(changed >= 0.4 * maskPx, `frame ${i}: only ${changed} of ${maskPx} mask pixels changed`);
  }
  assert.ok(framesWithDefects > 10, `only ${framesWithDefects} frames showed a defect`);
  assert.deepEqual([...kinds].sort(), [...DEFECT_KINDS].sort(), 'every defect kind appears');
});

test('defectRate sets the share of defective parts', () => {
  const o = { width: 320, height: 192, defectRate: 0.3, seed: 3 };
  const parts = Array.from({ length: 2000 }, (_, i) => partProperties(o, i));
  const share = parts.filter((p) => p.defect).length / parts.length;
  assert.ok(Math.abs(share - 0.3) < 0.04, `defective share ${share.toFixed(3)} over ${parts.length} parts`);
  // frames show exactly these parts: part 0 is in the middle of frame 0
  const inFrame0 = planFrame(o, 0).find((p) => p.index === 0);
  assert.equal(inFrame0?.kind, parts[0].kind);
  assert.equal(inFrame0?.cx, o.width / 2);
});

test('the source yields frames with metadata and stops after `frames`', async () => {
  const s = new SyntheticSource({ width: 128, height: 96, fps: 240, defectRate: 0.5, seed: 1, frames: 3 });
  await s.open();
  const frames = [await s.read(), await s.read(), await s.read()];
  assert.equal(await s.read(), null);
  for (const f of frames) {
    assert.ok(f);
    assert.deepEqual(f.originalSize, { width: 128, height: 96 });
    assert.equal(f.image.cols, 128);
    assert.equal(f.image.channels, 3);
    assert.ok(Array.isArray(f.truthDefects));
  }
  assert.ok(frames[1]!.capturedAtMono >= frames[0]!.capturedAtMono);
  await s.close();
  assert.throws(
    () => new SyntheticSource({ width: 10, height: 96, fps: 5, defectRate: 0, seed: 1 }),
    /width and height >= 64/,
  );
});
