// Image scores from the engine outputs: without HSF, softmax(100 u.t)[abnormal] as the official
// visual_text_similarity computes it; with HSF, the fused score of an HsfRunner (CPU or GPU).
import type { EngineOutput } from '../engines/engine.js';
import type { HsfResult, HsfRunner, HsfSettings } from '../hsf/types.js';

const f32 = Math.fround;

/**
 * Official order: x = 100 * u (float32), logits = x @ [t_n, t_a] (a float32 batched matmul), then a
 * float32 softmax over the two logits. Dot products accumulate in float64 and round once: closer to
 * the exact value than any float32 summation order, so the result is within float32 rounding of the
 * official one whichever BLAS order it used.
 */
export function scoreWithoutHsf(
  out: Pick<EngineOutput, 'batch' | 'embedDim' | 'globalFeature' | 'textFeatures'>,
): Float32Array {
  const { batch, embedDim: D, globalFeature: u, textFeatures: t } = out;
  const scores = new Float32Array(batch);
  for (let b = 0; b < batch; b++) {
    let normal = 0;
    let abnormal = 0;
    for (let d = 0; d < D; d++) {
      const x = f32(100 * u[b * D + d]);
      normal += x * t[b * 2 * D + d];
      abnormal += x * t[(b * 2 + 1) * D + d];
    }
    const l0 = f32(normal);
    const l1 = f32(abnormal);
    // torch's softmax: exp(l - max) / sum
    const m = Math.max(l0, l1);
    const e0 = f32(Math.exp(f32(l0 - m)));
    const e1 = f32(Math.exp(f32(l1 - m)));
    scores[b] = f32(e1 / f32(e0 + e1));
  }
  return scores;
}

export interface ImageScores {
  /** [B] the score to decide on: with HSF when it ran, else the score without HSF. */
  score: Float32Array;
  /** [B] softmax(100 u.t)[abnormal]. */
  scoreWithoutHsf: Float32Array;
  /** The HSF result when HSF ran. */
  hsf?: HsfResult;
}

/** Both scores of a batch; HSF runs when a runner is given. */
export async function scoreBatch(
  out: EngineOutput,
  hsf: HsfRunner | undefined,
  settings: HsfSettings,
): Promise<ImageScores> {
  const scoreNoHsf = scoreWithoutHsf(out);
  if (!hsf) return { score: scoreNoHsf, scoreWithoutHsf: scoreNoHsf };
  const result = await hsf.run(
    {
      batch: out.batch,
      topK: out.topK,
      layers: out.layers,
      embedDim: out.embedDim,
      tokens: out.hsfTokens,
      globalFeature: out.globalFeature,
      textFeatures: out.textFeatures,
    },
    settings,
  );
  return { score: result.scores, scoreWithoutHsf: scoreNoHsf, hsf: result };
}
