// Label-free thresholds: proposed from good images only, since defect images are rare on a real
// line. Why not anomalib's adaptive threshold: it maximises F1 over labelled images, and with only
// good ones it degenerates (older releases pick the minimum score, so every frame alarms; current
// ones the maximum, with no room for the next part that scores a little higher).
//
// The rule, for the image score and, separately, for each image's highest smoothed-map value (the
// image score on its log-odds z = ln(s / (1 - s)), the scale the model computes it on; the map maxima
// as they are, see below):
// - q, the (1 - targetFpr) quantile of the good images: at most floor(targetFpr * n) of them lie
//   above it, the false-alarm budget spent on the calibration set itself;
// - plus a margin of `marginSigmas` robust standard deviations of the good values (1.4826 * median
//   absolute deviation; unlike the plain standard deviation it is not inflated by the few high good
//   values in the tail that q is about). The margin is there because q is itself an estimate (its
//   standard error for a normal tail at 1 % is about 0.27 sd with 200 images and 0.53 sd with 50) and
//   because light, dust and wear drift the scores after calibration. It costs recall only where
//   defects score within a margin of the good parts, which `eval` shows. Why log-odds: near 0.5 they
//   are the score up to a factor (the margin is what a linear rule gives), but a model sure of its
//   good parts scores them 1e-13 to 1e-10, where the linear spread is 1e-12 and the margin was no
//   margin at all: the demo's nut camera, calibrated on 1000 good parts, raised 2.8 % false alarms
//   on held-out good parts at the bare p99. The map maxima stay on their own scale: on the demo
//   model 95 % of good maps underflow to exactly 0 (float32), a point mass whose log-odds spread
//   is that of the float format, not of the parts (one sd put the threshold at 0.9998); as they are,
//   the spread is that of the few good maps with a response, and the threshold is at least
//   MIN_PIXEL_THRESHOLD;
// - clear (hysteresis) halfway up the margin, q + margin / 2: every calibration image at or below q
//   clears an alarm, and a score hovering at the alarm threshold does not raise and clear it in turn.
// Per-image maxima of the map, not single pixels, set thresholds.pixel: a region appears when any
// pixel reaches it, so the per-image maximum is what makes a good image show a false region.

export const DEFAULT_TARGET_FPR = 0.01;
export const DEFAULT_MARGIN_SIGMAS = 1;
/** Scale of the median absolute deviation to a normal distribution's standard deviation. */
const MAD_TO_SD = 1.4826;
/** The spread (log-odds) when every good value is the same: about 0.01 of score at 0.5. */
const FLOOR_SD = 0.04;
/** The same for the map maxima, which are taken as they are (see the header). */
const FLOOR_SD_LINEAR = 0.01;
/**
 * Values are clamped into [EPS, ONE_MINUS] before the log-odds, float32's range (scores and maps are
 * float32): below its smallest normal number a value is an underflow (the demo model's good maps are
 * exactly 0 almost everywhere), and 0 and 1 must stay finite.
 */
const EPS = 2 ** -126;
const ONE_MINUS = 1 - 2 ** -24;
/**
 * thresholds.pixel is never below this: a map value under 1 % is the model saying "normal" 99 to 1.
 * Where good maps are 0 (underflow) the rule has no spread to go on and would propose 1e-38, and
 * every pixel of a defect's smoothed halo would join its region.
 */
export const MIN_PIXEL_THRESHOLD = 0.01;
/** Thresholds are rounded up to this step, readable in a config and never below the rule's value. */
const STEP = 1e-4;
/** Below this, thresholds keep two significant digits instead (see roundUp). */
const SMALL = 1e-3;

export interface ThresholdDerivation {
  /** The (1 - targetFpr) quantile of the good values (a score). */
  quantile: number;
  /** Robust standard deviation of the good values (image scores: of their log-odds), or its fallback. */
  sd: number;
  /** marginSigmas * sd, on the same scale. */
  margin: number;
  threshold: number;
  /** Good images at or above the threshold, and their share. */
  above: number;
  rate: number;
}

export interface CalibrationProposal {
  thresholds: { image: number; clear: number; pixel: number };
  image: ThresholdDerivation;
  pixel: ThresholdDerivation;
  images: number;
  targetFpr: number;
  marginSigmas: number;
  /** One line for the config and the dashboard. */
  rule: string;
  warnings: string[];
}

export function proposeThresholds(o: {
  imageScores: ArrayLike<number>;
  pixelMaxima: ArrayLike<number>;
  targetFpr?: number;
  marginSigmas?: number;
}): CalibrationProposal {
  const targetFpr = o.targetFpr ?? DEFAULT_TARGET_FPR;
  const k = o.marginSigmas ?? DEFAULT_MARGIN_SIGMAS;
  const n = o.imageScores.length;
  if (n === 0) throw new Error('calibration needs at least one good image');
  if (o.pixelMaxima.length !== n)
    throw new Error(`calibration: ${n} image scores but ${o.pixelMaxima.length} map maxima`);
  if (!(targetFpr > 0 && targetFpr < 1))
    throw new Error(`calibration: targetFpr must be in (0, 1), got ${targetFpr}`);
  if (!(k >= 0 && Number.isFinite(k))) throw new Error(`calibration: marginSigmas must be >= 0, got ${k}`);
  const warnings: string[] = [];
  const image = derive(o.imageScores, targetFpr, k, 'image scores', warnings, 'log-odds');
  const pixel = derive(o.pixelMaxima, targetFpr, k, 'map maxima', warnings, 'linear');
  if (pixel.threshold < MIN_PIXEL_THRESHOLD) {
    warnings.push(
      `the rule's map threshold ${formatScore(pixel.threshold)} is below the floor ${MIN_PIXEL_THRESHOLD}: ` +
        `thresholds.pixel is ${MIN_PIXEL_THRESHOLD} (good maps stay far below it)`,
    );
    pixel.threshold = MIN_PIXEL_THRESHOLD;
    pixel.above = countAtOrAbove(o.pixelMaxima, MIN_PIXEL_THRESHOLD);
    pixel.rate = pixel.above / n;
  }
  const clear = Math.min(image.threshold, roundUp(sigmoid(logit(image.quantile) + image.margin / 2)));
  const pct = percentileName(targetFpr);
  if (n < Math.ceil(1 / targetFpr))
    warnings.push(
      `only ${n} good images: the ${pct} is their maximum and a rate of ${formatPct(targetFpr)} cannot be seen on so few; ` +
        `score at least ${Math.ceil(3 / targetFpr)} (no false alarm in ${Math.ceil(3 / targetFpr)} good images bounds the rate at ${formatPct(targetFpr)} with 95 % confidence)`,
    );
  return {
    thresholds: { image: image.threshold, clear, pixel: pixel.threshold },
    image,
    pixel,
    images: n,
    targetFpr,
    marginSigmas: k,
    rule: `${pct} of good images + ${k} robust sd (1.4826 MAD; image scores on their log-odds, map maxima >= ${MIN_PIXEL_THRESHOLD}); clear at ${pct} + half the margin`,
    warnings,
  };
}

function derive(
  values: ArrayLike<number>,
  targetFpr: number,
  k: number,
  what: string,
  warnings: string[],
  scale: 'log-odds' | 'linear',
): ThresholdDerivation {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  if (!sorted.every(Number.isFinite))
    throw new Error(`calibration: the ${what} include a value that is not finite`);
  if (sorted[0] < 0 || sorted[n - 1] > 1)
    throw new Error(`calibration: the ${what} must lie in [0, 1], got ${sorted[0]} .. ${sorted[n - 1]}`);
  // at most `allowed` good values lie strictly above sorted[n - 1 - allowed]
  const allowed = Math.floor(targetFpr * n + 1e-9);
  const quantile = sorted[n - 1 - allowed];
  const to = scale === 'log-odds' ? logit : (v: number) => v;
  const from = scale === 'log-odds' ? sigmoid : (v: number) => v;
  const z = Float64Array.from(sorted, to); // sorted too: the log-odds are monotonic
  const med = median(z);
  let sd = MAD_TO_SD * median(Float64Array.from(z, (v) => Math.abs(v - med)).sort());
  if (sd === 0) sd = standardDeviation(z);
  if (sd === 0) sd = scale === 'log-odds' ? FLOOR_SD : FLOOR_SD_LINEAR;
  const margin = k * sd;
  let threshold = roundUp(from(to(quantile) + margin));
  if (threshold >= 1) {
    warnings.push(
      `the good ${what} reach ${formatScore(quantile)}: the rule's value rounds up to 1, so only a score of exactly 1 alarms`,
    );
    threshold = 1;
  }
  const above = countAtOrAbove(sorted, threshold);
  return { quantile, sd, margin, threshold, above, rate: above / n };
}

function countAtOrAbove(values: ArrayLike<number>, threshold: number): number {
  let above = 0;
  for (let i = 0; i < values.length; i++) if (values[i] >= threshold) above++;
  return above;
}

/** ln(s / (1 - s)), with s clamped so that 0 and 1 give finite values. */
export function logit(s: number): number {
  const c = Math.min(Math.max(s, EPS), ONE_MINUS);
  return Math.log(c) - Math.log1p(-c);
}

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

function median(sorted: Float64Array): number {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

function standardDeviation(xs: Float64Array): number {
  if (xs.length < 2) return 0;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
}

function roundUp(x: number): number {
  if (x >= SMALL || x <= 0) return Number((Math.ceil(x / STEP - 1e-9) * STEP).toFixed(4));
  // a model sure of its good parts scores them near 0 (1e-13 for the demo model): a step of 1e-4
  // put the threshold 10^8 times above them and missed a quarter of the defects (scores 1e-12 to
  // 1e-4); two significant digits keep the rule's value, still rounded up
  const step = 10 ** (Math.floor(Math.log10(x)) - 1);
  return Number((Math.ceil(x / step - 1e-9) * step).toPrecision(2));
}

/** Shows a threshold or score: 4 decimals, or 2 significant digits below SMALL. */
export function formatScore(x: number): string {
  return x !== 0 && Math.abs(x) < SMALL ? x.toPrecision(2) : x.toFixed(4);
}

/** 0.01 -> "p99", 0.001 -> "p99.9". */
export function percentileName(targetFpr: number): string {
  return `p${Number(((1 - targetFpr) * 100).toFixed(6))}`;
}

export function formatPct(x: number): string {
  return `${Number((x * 100).toFixed(3))} %`;
}
