// Splits a batch larger than an engine's maximum into consecutive sub-batches and joins their
// outputs, so every backend accepts any batch size the pipeline forms.
import type { EngineInput, EngineOutput } from './engine.js';

export async function runInSubBatches(
  input: EngineInput,
  maxBatch: number,
  imageSize: number,
  runChunk: (chunk: EngineInput) => Promise<EngineOutput>,
): Promise<EngineOutput> {
  if (input.batch <= maxBatch) return runChunk(input);
  const perImage = 3 * imageSize * imageSize;
  const perTokens = input.sentences * input.context;
  const parts: EngineOutput[] = [];
  for (let start = 0; start < input.batch; start += maxBatch) {
    const n = Math.min(maxBatch, input.batch - start);
    parts.push(
      await runChunk({
        ...input,
        batch: n,
        images: input.images.subarray(start * perImage, (start + n) * perImage),
        frames: input.frames?.slice(start, start + n),
        tokens: input.tokens.subarray(start * perTokens, (start + n) * perTokens),
      }),
    );
  }
  return concatOutputs(parts);
}

function concat<T extends Float32Array | Int32Array>(parts: T[], make: (n: number) => T): T {
  const out = make(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Joins the outputs of consecutive sub-batches into one batch. */
export function concatOutputs(parts: EngineOutput[]): EngineOutput {
  const first = parts[0];
  return {
    ...first,
    batch: parts.reduce((n, p) => n + p.batch, 0),
    anomalyMap: concat(
      parts.map((p) => p.anomalyMap),
      (n) => new Float32Array(n),
    ),
    globalFeature: concat(
      parts.map((p) => p.globalFeature),
      (n) => new Float32Array(n),
    ),
    textFeatures: concat(
      parts.map((p) => p.textFeatures),
      (n) => new Float32Array(n),
    ),
    hsfIndices: concat(
      parts.map((p) => p.hsfIndices),
      (n) => new Int32Array(n),
    ),
    hsfTokens: concat(
      parts.map((p) => p.hsfTokens),
      (n) => new Float32Array(n),
    ),
  };
}
