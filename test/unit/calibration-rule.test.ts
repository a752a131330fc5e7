import { test } from 'node:test';
import assert from 'node:assert/strict';
import { percentileName, proposeThresholds } from '../../src/calibration/rule.js';

const close = (a: number, b: number, tol = 1e-12) => Math.abs(a - b) <= tol;

test('known scores: quantile, robust sd, rounding up, clear halfway up the margin', () => {
  // 0.301 .. 0.400: the p99 leaves one score above it (0.400), so it is 0.399; the median is 0.3505
  // and the absolute deviations 0.0005 .. 0.0495 (each twice), whose median is 0.025
  const scores = Array.from({ length: 100 }, (_, i) => 0.3 + (i + 1) / 1000);
  const maxima = scores.map((s) => s + 0.2);
  const p = proposeThresholds({ imageScores: scores, pixelMaxima: maxima, targetFpr: 0.01, marginSigmas: 1 });
  assert.ok(close(p.image.quantile, 0.399));
  assert.ok(close(p.image.sd, 1.4826 * 0.025, 1e-12));
  // 0.399 + 0.037065 = 0.436065, rounded up to 1e-4
  assert.equal(p.thresholds.image, 0.4361);
  // 0.399 + 0.0185325 = 0.4175325
  assert.equal(p.thresholds.clear, 0.4176);
  assert.equal(p.thresholds.pixel, 0.6361);
  assert.equal(p.image.above, 0);
  assert.equal(p.image.rate, 0);
  assert.equal(p.rule, 'p99 of good images + 1 robust sd (1.4826 MAD); clear at p99 + half the margin');
  assert.deepEqual(p.warnings, [], 'exactly 1/targetFpr images: no warning');

  // a 5 % budget leaves five scores above the quantile: 0.395
  const five = proposeThresholds({
    imageScores: scores,
    pixelMaxima: maxima,
    targetFpr: 0.05,
    marginSigmas: 0,
  });
  assert.ok(close(five.image.quantile, 0.395));
  assert.equal(five.thresholds.image, 0.395);
  // without a margin the quantile itself is the threshold: it and the five above it alarm
  assert.equal(five.image.above, 6);
});

test('the rule meets its target on held-out good scores where the raw maximum does not', () => {
  // seeded normal scores (Box-Muller): calibrate on 300, check on 20 000 more from the same source
  let s = 7;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const normal = () => 0.3 + 0.05 * Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const cal = Array.from({ length: 300 }, normal);
  const held = Array.from({ length: 20000 }, normal);
  const p = proposeThresholds({ imageScores: cal, pixelMaxima: cal, targetFpr: 0.01 });
  const rate = (t: number) => held.filter((x) => x >= t).length / held.length;
  assert.ok(rate(p.thresholds.image) <= 0.01, `held-out false alarms ${rate(p.thresholds.image)}`);
  assert.ok(p.thresholds.clear < p.thresholds.image && p.thresholds.clear > p.image.quantile);
  // the robust sd finds the 0.05 the scores were drawn with
  assert.ok(Math.abs(p.image.sd - 0.05) < 0.01, `sd ${p.image.sd}`);
  // what an F1-adaptive threshold falls back to without defect images (the minimum, in older
  // anomalib) alarms on nearly every good part
  assert.ok(rate(Math.min(...cal)) > 0.99);
});

test('degenerate and bad input', () => {
  const same = proposeThresholds({ imageScores: [0.5, 0.5, 0.5], pixelMaxima: [0.7, 0.7, 0.7] });
  // no spread at all: a floor of 0.01 keeps the threshold above every calibration image
  assert.equal(same.thresholds.image, 0.51);
  assert.equal(same.image.above, 0);
  assert.match(
    same.warnings.join('\n'),
    /only 3 good images: the p99 is their maximum .* score at least 300/,
  );
  const high = proposeThresholds({ imageScores: [0.98, 0.99, 0.995], pixelMaxima: [0.5, 0.5, 0.5] });
  assert.equal(high.thresholds.image, 1);
  assert.match(high.warnings.join('\n'), /above 1, so 1 is proposed/);
  assert.ok(high.thresholds.clear <= high.thresholds.image);
  assert.throws(() => proposeThresholds({ imageScores: [], pixelMaxima: [] }), /at least one good image/);
  assert.throws(
    () => proposeThresholds({ imageScores: [0.1], pixelMaxima: [0.1], targetFpr: 0 }),
    /targetFpr/,
  );
  assert.throws(() => proposeThresholds({ imageScores: [NaN], pixelMaxima: [0.1] }), /not finite/);
  assert.equal(percentileName(0.001), 'p99.9');
  assert.equal(percentileName(0.05), 'p95');
});

test('scores near 0 (a model sure of its good parts): two significant digits, still rounded up', () => {
  // 100 good scores 1e-13 .. 1e-11 (log-spaced), as the demo model gives its good parts
  const scores = Array.from({ length: 100 }, (_, i) => 10 ** (-13 + (2 * i) / 99));
  const p = proposeThresholds({ imageScores: scores, pixelMaxima: scores, targetFpr: 0.01, marginSigmas: 1 });
  const want = p.image.quantile + p.image.margin;
  assert.ok(want < 1e-10, `the rule's value ${want}`);
  assert.ok(p.thresholds.image >= want, 'never below the rule');
  assert.ok(
    p.thresholds.image <= want * 1.1,
    `${p.thresholds.image}: within one step of 2 significant digits`,
  );
  assert.equal(Number(p.thresholds.image.toPrecision(2)), p.thresholds.image);
  // the step of 1e-4 it replaces would have put the threshold 10^7 times above every good score
  assert.ok(p.thresholds.image < 1e-4);
});
