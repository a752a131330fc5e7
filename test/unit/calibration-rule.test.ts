import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MIN_PIXEL_THRESHOLD, percentileName, proposeThresholds } from '../../src/calibration/rule.js';

const close = (a: number, b: number, tol = 1e-12) => Math.abs(a - b) <= tol;

test('known scores: quantile, robust sd of the log-odds, rounding up, clear halfway up the margin', () => {
  // 0.301 .. 0.400: the p99 leaves one score above it (0.400), so it is 0.399. Expected values from
  // numpy (z = log(s / (1 - s)); sd = 1.4826 * median(|z - median(z)|); sigmoid(logit(q) + sd)):
  // sd 0.1629166163348248, threshold 0.438631745861377, clear 0.4186846889304093. The maxima
  // (scores + 0.2) as they are: p99 0.599, median 0.5505, absolute deviations 0.0005 .. 0.0495 (each
  // twice), whose median is 0.025: 0.599 + 1.4826 * 0.025 = 0.636065
  const scores = Array.from({ length: 100 }, (_, i) => 0.3 + (i + 1) / 1000);
  const maxima = scores.map((s) => s + 0.2);
  const p = proposeThresholds({ imageScores: scores, pixelMaxima: maxima, targetFpr: 0.01, marginSigmas: 1 });
  assert.ok(close(p.image.quantile, 0.399));
  assert.ok(close(p.image.sd, 0.1629166163348248, 1e-12));
  // each rounded up to 1e-4
  assert.equal(p.thresholds.image, 0.4387);
  assert.equal(p.thresholds.clear, 0.4187);
  assert.equal(p.thresholds.pixel, 0.6361);
  assert.ok(close(p.pixel.sd, 1.4826 * 0.025));
  assert.equal(p.image.above, 0);
  assert.equal(p.image.rate, 0);
  assert.equal(
    p.rule,
    'p99 of good images + 1 robust sd (1.4826 MAD; image scores on their log-odds, map maxima >= 0.01); clear at p99 + half the margin',
  );
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
  // the robust sd finds the 0.05 the scores were drawn with, on the log-odds scale: 0.05 / (0.3 * 0.7)
  assert.ok(Math.abs(p.image.sd - 0.05 / 0.21) < 0.05, `sd ${p.image.sd}`);
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
  // high good scores: the log-odds margin stays below 1 (numpy: sigmoid(logit(0.995) + 1.0351) =
  // 0.99821835); only when that rounds up to 1 does the rule say so
  const high = proposeThresholds({ imageScores: [0.98, 0.99, 0.995], pixelMaxima: [0.5, 0.5, 0.5] });
  assert.equal(high.thresholds.image, 0.9983);
  assert.ok(high.thresholds.clear <= high.thresholds.image);
  const top = proposeThresholds({ imageScores: [0.9999, 0.99995, 1], pixelMaxima: [0.5, 0.5, 0.5] });
  assert.equal(top.thresholds.image, 1);
  assert.match(top.warnings.join('\n'), /rounds up to 1, so only a score of exactly 1 alarms/);
  assert.throws(
    () => proposeThresholds({ imageScores: [1.5], pixelMaxima: [0.1] }),
    /image scores must lie in \[0, 1\], got 1.5/,
  );
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
  // the rule's value: q raised by the margin on the log-odds scale
  const z = Math.log(p.image.quantile / (1 - p.image.quantile)) + p.image.margin;
  const want = 1 / (1 + Math.exp(-z));
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

test('log-spread good scores get a margin: a linear spread of 1e-12 was none', () => {
  // good scores whose log-odds are normal (mean -27, sd 1.5), as the demo model's: calibrate on 1000,
  // check on 50 000 more from the same source; the bare p99 (no margin) misses its 1 % there more
  // often than not, the rule must not
  let s = 11;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const good = () => {
    const z = -27 + 1.5 * Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
    return 1 / (1 + Math.exp(-z));
  };
  const cal = Array.from({ length: 1000 }, good);
  const held = Array.from({ length: 50000 }, good);
  const p = proposeThresholds({ imageScores: cal, pixelMaxima: cal, targetFpr: 0.01 });
  const rate = (t: number) => held.filter((x) => x >= t).length / held.length;
  assert.ok(Math.abs(p.image.sd - 1.5) < 0.15, `sd of the log-odds ${p.image.sd}`);
  // one sd above the p99 on this scale: a factor e^1.5 = 4.5 in score, about 0.1 % of good parts
  assert.ok(p.thresholds.image > 4 * p.image.quantile, `${p.thresholds.image} vs q ${p.image.quantile}`);
  assert.ok(rate(p.thresholds.image) < 0.003, `held-out false alarms ${rate(p.thresholds.image)}`);
  assert.ok(rate(p.image.quantile) > rate(p.thresholds.image) * 3);
});

test('good maps that underflow to 0: thresholds.pixel is the 0.01 floor, said in a warning', () => {
  // the demo model's good maps: exactly 0 (float32 underflow) but for a few tiny maxima
  const maxima = Array.from({ length: 1000 }, (_, i) => (i % 100 === 0 ? 1e-8 : 0));
  const scores = Array.from({ length: 1000 }, (_, i) => 1e-12 * (1 + (i % 7)));
  const p = proposeThresholds({ imageScores: scores, pixelMaxima: maxima, targetFpr: 0.01 });
  assert.equal(p.thresholds.pixel, MIN_PIXEL_THRESHOLD);
  assert.equal(p.pixel.above, 0);
  assert.match(p.warnings.join('\n'), /below the floor 0\.01: thresholds\.pixel is 0\.01/);
  // the image threshold is the rule's own, far below the floor
  assert.ok(p.thresholds.image < 1e-10 && p.thresholds.image > 7e-12, `${p.thresholds.image}`);
  // a pixel rule above the floor is left alone
  const high = proposeThresholds({
    imageScores: scores,
    pixelMaxima: maxima.map((m) => m + 0.2),
    targetFpr: 0.01,
  });
  assert.ok(high.thresholds.pixel > 0.2);
  assert.doesNotMatch(high.warnings.join('\n'), /floor/);
});
