// Image-level metrics (AUROC, AP, F1-max) from one score and one label per image.
import { checkFinite, rankMetrics, type RankMetrics } from './rank-metrics.js';

/** labels: 1 = anomalous, 0 = normal. */
export function imageMetrics(scores: ArrayLike<number>, labels: ArrayLike<number>): RankMetrics {
  if (scores.length !== labels.length)
    throw new Error(`image metrics: ${scores.length} scores but ${labels.length} labels`);
  checkFinite(scores, 'image scores');
  let nPos = 0;
  for (let k = 0; k < labels.length; k++) if (labels[k]) nPos++;
  const pos = new Float64Array(nPos);
  const neg = new Float64Array(labels.length - nPos);
  let p = 0;
  let n = 0;
  for (let k = 0; k < labels.length; k++) {
    if (labels[k]) pos[p++] = scores[k];
    else neg[n++] = scores[k];
  }
  return rankMetrics({ neg: neg.sort(), pos: pos.sort() });
}
