// Threshold-free metrics of a binary scorer, computed the way scikit-learn and anomalib do, from the
// scores of each class sorted once (ascending). The curves are walked from the highest score down
// with one operating point per distinct score: equal scores enter together, as in sklearn's
// _binary_clf_curve, which is what makes ties count half in the AUROC and keeps AP and F1-max equal
// to sklearn's. Written by hand because no maintained JavaScript library computes these over typed
// arrays of ~100M pixel scores; sklearn's definitions are restated beside each sum.

/** Integration limit of the PRO curve (MVTec AD, anomalib and the AdaCLIP paper use 0.3). */
export const AUPRO_FPR_LIMIT = 0.3;

export interface RankMetrics {
  /** roc_auc_score: trapezoidal area under (FPR, TPR). */
  auroc: number;
  /** average_precision_score: sum over operating points of (R_k - R_(k-1)) * P_k. */
  ap: number;
  /** max over the precision_recall_curve points of 2PR / (P + R). */
  f1Max: number;
  /** The score at and above which a sample is called anomalous at F1-max. */
  f1Threshold: number;
  /**
   * Area under the per-region-overlap curve up to FPR `fprLimit`, divided by `fprLimit`: present
   * when per-positive weights (1 / (region area * regions)) were given.
   */
  aupro?: number;
}

export interface RankInput {
  /** Scores of the normal samples, sorted ascending, all finite. */
  neg: ArrayLike<number>;
  /** Scores of the anomalous samples, sorted ascending, all finite. */
  pos: ArrayLike<number>;
  /**
   * For AUPRO: the weight of each anomalous sample in `pos` order, 1 / (area of its ground-truth
   * region * number of regions), so that the weights of the samples at or above a threshold sum to
   * the mean per-region overlap there.
   */
  posWeight?: ArrayLike<number>;
  fprLimit?: number;
}

export function rankMetrics({ neg, pos, posWeight, fprLimit = AUPRO_FPR_LIMIT }: RankInput): RankMetrics {
  const N = neg.length;
  const P = pos.length;
  if (N === 0 || P === 0)
    throw new Error(`rank metrics need normal and anomalous samples (got ${N} normal, ${P} anomalous)`);
  if (posWeight && posWeight.length !== P)
    throw new Error(`rank metrics: ${P} anomalous scores but ${posWeight.length} weights`);
  if (!(fprLimit > 0 && fprLimit <= 1))
    throw new Error(`rank metrics: fprLimit must be in (0, 1], got ${fprLimit}`);

  let i = N - 1;
  let j = P - 1;
  let fp = 0;
  let tp = 0;
  let pro = 0;
  let prevFpr = 0;
  let prevTpr = 0;
  let prevPro = 0;
  let auroc = 0;
  let ap = 0;
  let f1Max = 0;
  let f1Threshold = Infinity;
  let proArea = 0;
  let proDone = posWeight === undefined;
  while (i >= 0 || j >= 0) {
    const t = i < 0 ? pos[j] : j < 0 ? neg[i] : Math.max(neg[i], pos[j]);
    while (i >= 0 && neg[i] === t) {
      fp++;
      i--;
    }
    while (j >= 0 && pos[j] === t) {
      tp++;
      if (posWeight) pro += posWeight[j];
      j--;
    }
    const fpr = fp / N;
    const tpr = tp / P;
    auroc += ((fpr - prevFpr) * (tpr + prevTpr)) / 2;
    ap += (tpr - prevTpr) * (tp / (tp + fp));
    // 2PR / (P + R) with P = tp / (tp + fp), R = tp / P simplifies to this
    const f1 = (2 * tp) / (tp + fp + P);
    if (f1 > f1Max) {
      f1Max = f1;
      f1Threshold = t;
    }
    if (!proDone) {
      if (fpr <= fprLimit) proArea += ((fpr - prevFpr) * (pro + prevPro)) / 2;
      else {
        // the segment crosses the limit: the PRO value there by linear interpolation
        const atLimit = prevPro + ((pro - prevPro) * (fprLimit - prevFpr)) / (fpr - prevFpr);
        proArea += ((fprLimit - prevFpr) * (atLimit + prevPro)) / 2;
        proDone = true;
      }
    }
    prevFpr = fpr;
    prevTpr = tpr;
    prevPro = pro;
  }
  const out: RankMetrics = { auroc, ap, f1Max, f1Threshold };
  if (posWeight) out.aupro = proArea / fprLimit;
  return out;
}

/** Throws naming the first value that is not a finite number (sklearn refuses NaN and infinities too). */
export function checkFinite(values: ArrayLike<number>, what: string): void {
  for (let k = 0; k < values.length; k++) {
    if (!Number.isFinite(values[k]))
      throw new Error(`${what}: value ${k} is ${values[k]}, not a finite number`);
  }
}
