// Clear errors for malformed HSF input: shapes, settings and non-finite values name the problem.
import type { HsfInput, HsfSettings } from './types.js';

export class HsfInputError extends Error {
  override name = 'HsfInputError';
}

function positiveInt(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 1)
    throw new HsfInputError(`HSF: ${what} must be a positive integer, got ${v}`);
}

function sized(a: unknown, want: number, what: string, shape: string): void {
  if (!(a instanceof Float32Array)) throw new HsfInputError(`HSF: ${what} must be a Float32Array ${shape}`);
  if (a.length !== want) {
    throw new HsfInputError(`HSF: ${what} has ${a.length} values, expected ${shape} = ${want}`);
  }
}

export function validateHsfInput(input: HsfInput, settings: HsfSettings): void {
  positiveInt(input.batch, 'batch');
  positiveInt(input.topK, 'topK');
  positiveInt(input.layers, 'layers');
  positiveInt(input.embedDim, 'embedDim');
  positiveInt(settings.kClusters, 'kClusters');
  const { batch: b, topK: k, layers: l, embedDim: d } = input;
  if (settings.kClusters > k) {
    throw new HsfInputError(`HSF: kClusters ${settings.kClusters} exceeds the ${k} selected tokens`);
  }
  if (!(settings.alpha >= 0 && settings.alpha <= 1)) {
    throw new HsfInputError(`HSF: alpha must be in [0, 1], got ${settings.alpha}`);
  }
  sized(input.tokens, b * k * l * d, 'tokens', `[B=${b},K=${k},L=${l},D=${d}]`);
  sized(input.globalFeature, b * d, 'globalFeature', `[B=${b},D=${d}]`);
  sized(input.textFeatures, b * 2 * d, 'textFeatures', `[B=${b},2,D=${d}]`);
  const bad = firstNonFinite(input.globalFeature) ?? firstNonFinite(input.textFeatures);
  if (bad !== undefined) throw new HsfInputError(`HSF: non-finite value in global/text features (${bad})`);
}

function firstNonFinite(a: Float32Array): string | undefined {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return `index ${i}: ${a[i]}`;
  return undefined;
}
