// Deterministic K-Means on a Gram matrix (K x K inner products of the rows), written by hand
// because no library clusters from a Gram matrix, and the official HSF's scikit-learn KMeans is
// unseeded (same image, different score). With G, a squared distance to a cluster mean is
//   |x_i - m_c|^2 = G_ii - 2 S_ic / n_c + Q_c / n_c^2,  S_ic = sum_{j in c} G_ij,  Q_c = sum_{j in c} S_jc,
// so every step costs O(K^2) instead of O(K * L*D).
//
// The algorithm, exactly (the CUDA port in native/node-tensorrt/src/hsf follows it step by step,
// in the same float64 operation order, so its labels are identical):
// 1. nInit runs; run r draws from Mulberry32(initSeed(seed, r)).
// 2. Greedy k-means++ (as scikit-learn): first centre = floor(u * K); then for each next centre,
//    trials = 2 + floor(ln k) candidates, each the first index whose running sum of the current
//    closest squared distances exceeds u * potential; keep the candidate with the lowest new
//    potential (first on ties). If the potential is 0 (fewer distinct rows than k), take the lowest
//    index that is not yet a centre.
// 3. Assign every row to the nearest centre (lowest cluster index on ties).
// 4. Lloyd: fill empty clusters (each empty cluster, in ascending order, takes the row farthest
//    from its centre among rows whose cluster has more than one member, lowest index on ties);
//    recompute S, Q, n from the labels; reassign (nearest mean; a tie keeps the current cluster,
//    else the lowest index wins). Stop when no label changes, when the inertia drop is
//    <= tol * inertia, or after maxIter reassignments. Then fill empty clusters once more and
//    take the inertia of the final labels.
// 5. Optionally (default on) Hartigan's single-row moves until none helps (see hartiganPasses).
// 6. Keep the run with the lowest inertia (the earliest on ties).
import { Mulberry32, initSeed } from '../util/prng.js';

export interface KMeansOptions {
  /** Independent k-means++ initialisations; the best inertia wins. */
  nInit: number;
  /** Maximum Lloyd reassignments per init. */
  maxIter: number;
  /** Stop when (previous - current) inertia <= tol * current; 0 = only when labels are stable. */
  tol: number;
  /** Base seed of the PRNG streams. */
  seed: number;
  /** Refine each init with Hartigan's single-row moves after Lloyd (step 5). */
  hartigan: boolean;
}

export const DEFAULT_KMEANS: KMeansOptions = { nInit: 4, maxIter: 100, tol: 0, seed: 0x5eed, hartigan: true };

export interface KMeansStats {
  inertia: number;
  iterations: number;
  bestInit: number;
}

/** Scratch for one (K, k): allocated once, reused for every image. */
export class KMeansWorkspace {
  readonly sums: Float64Array;
  readonly q: Float64Array;
  readonly qOverN2: Float64Array;
  readonly up: Float64Array;
  readonly down: Float64Array;
  readonly counts: Int32Array;
  readonly labels: Int32Array;
  readonly bestLabels: Int32Array;
  readonly dist: Float64Array;
  readonly closest: Float64Array;
  readonly candidate: Float64Array;
  readonly bestCandidate: Float64Array;
  readonly centres: Int32Array;
  readonly rng = new Mulberry32(0);

  constructor(
    readonly rows: number,
    readonly k: number,
  ) {
    this.sums = new Float64Array(rows * k);
    this.q = new Float64Array(k);
    this.qOverN2 = new Float64Array(k);
    this.up = new Float64Array(k);
    this.down = new Float64Array(k);
    this.counts = new Int32Array(k);
    this.labels = new Int32Array(rows);
    this.bestLabels = new Int32Array(rows);
    this.dist = new Float64Array(rows);
    this.closest = new Float64Array(rows);
    this.candidate = new Float64Array(rows);
    this.bestCandidate = new Float64Array(rows);
    this.centres = new Int32Array(k);
  }
}

/** Squared distance between rows a and b, from G. */
function pairDistance(g: Float64Array, rows: number, a: number, b: number): number {
  return g[a * rows + a] + g[b * rows + b] - 2 * g[a * rows + b];
}

/** Step 2: greedy k-means++; fills ws.centres. */
function seedCentres(g: Float64Array, ws: KMeansWorkspace, rng: Mulberry32): void {
  const { rows, k, centres } = ws;
  let closest = ws.closest;
  let candidate = ws.candidate;
  let best = ws.bestCandidate;
  const trials = 2 + Math.floor(Math.log(k));
  const first = Math.floor(rng.next() * rows);
  centres[0] = first;
  let potential = 0;
  for (let i = 0; i < rows; i++) {
    const d = Math.max(0, pairDistance(g, rows, i, first));
    closest[i] = d;
    potential += d;
  }
  for (let c = 1; c < k; c++) {
    if (!(potential > 0)) {
      centres[c] = lowestUnused(centres, c, rows);
      const p = centres[c];
      potential = 0;
      for (let i = 0; i < rows; i++) {
        const d = Math.max(0, pairDistance(g, rows, i, p));
        if (d < closest[i]) closest[i] = d;
        potential += closest[i];
      }
      continue;
    }
    let bestIndex = -1;
    let bestPotential = Infinity;
    for (let t = 0; t < trials; t++) {
      const target = rng.next() * potential;
      let pick = rows - 1;
      let running = 0;
      for (let i = 0; i < rows; i++) {
        running += closest[i];
        if (running > target) {
          pick = i;
          break;
        }
      }
      let pot = 0;
      for (let i = 0; i < rows; i++) {
        const d = Math.max(0, pairDistance(g, rows, i, pick));
        const m = d < closest[i] ? d : closest[i];
        candidate[i] = m;
        pot += m;
      }
      if (pot < bestPotential) {
        bestPotential = pot;
        bestIndex = pick;
        const swap = best;
        best = candidate;
        candidate = swap;
      }
    }
    centres[c] = bestIndex;
    potential = bestPotential;
    const swap = closest;
    closest = best;
    best = swap;
  }
}

function lowestUnused(centres: Int32Array, used: number, rows: number): number {
  for (let i = 0; i < rows; i++) {
    let taken = false;
    for (let c = 0; c < used; c++) if (centres[c] === i) taken = true;
    if (!taken) return i;
  }
  return 0;
}

/** Step 3: nearest point-centre. */
function assignToCentres(g: Float64Array, ws: KMeansWorkspace): void {
  const { rows, k, centres, labels, dist } = ws;
  for (let i = 0; i < rows; i++) {
    let bestC = 0;
    let bestD = Infinity;
    for (let c = 0; c < k; c++) {
      const d = pairDistance(g, rows, i, centres[c]);
      if (d < bestD) {
        bestD = d;
        bestC = c;
      }
    }
    labels[i] = bestC;
    dist[i] = bestD;
  }
}

/** Step 4, first half: every cluster gets at least one row. */
function fillEmptyClusters(ws: KMeansWorkspace): void {
  const { rows, k, labels, counts, dist } = ws;
  counts.fill(0);
  for (let i = 0; i < rows; i++) counts[labels[i]]++;
  for (let c = 0; c < k; c++) {
    if (counts[c] !== 0) continue;
    let far = -1;
    let farD = -Infinity;
    for (let i = 0; i < rows; i++) {
      if (counts[labels[i]] > 1 && dist[i] > farD) {
        farD = dist[i];
        far = i;
      }
    }
    if (far < 0) continue; // fewer rows than clusters: cannot happen when rows >= k
    counts[labels[far]]--;
    labels[far] = c;
    counts[c] = 1;
    dist[far] = 0;
  }
}

/** |x_i - m_c|^2 from G_ii, S_ic, Q_c and n_c, in this exact operation order (the CUDA port's). */
function distanceToMean(gii: number, sic: number, qc: number, n: number): number {
  return gii - (2 * sic) / n + qc / (n * n);
}

/** Fills S = sums over members of G rows, Q and counts from the labels. */
function memberSums(g: Float64Array, ws: KMeansWorkspace): void {
  const { rows, k, labels, counts, sums, q } = ws;
  sums.fill(0);
  q.fill(0);
  counts.fill(0);
  for (let i = 0; i < rows; i++) counts[labels[i]]++;
  for (let i = 0; i < rows; i++) {
    const gi = i * rows;
    const si = i * k;
    for (let j = 0; j < rows; j++) sums[si + labels[j]] += g[gi + j];
  }
  for (let i = 0; i < rows; i++) q[labels[i]] += sums[i * k + labels[i]];
}

/** Inertia of the current labels, their means as centres. */
function labelInertia(g: Float64Array, ws: KMeansWorkspace): number {
  const { rows, k, labels, counts, sums, q } = ws;
  memberSums(g, ws);
  let inertia = 0;
  for (let i = 0; i < rows; i++) {
    const c = labels[i];
    inertia += distanceToMean(g[i * rows + i], sums[i * k + c], q[c], counts[c]);
  }
  return inertia;
}

/** Step 4, second half: reassign to the cluster means; returns [changed, inertia]. */
function lloydStep(g: Float64Array, ws: KMeansWorkspace): [boolean, number] {
  const { rows, k, labels, counts, sums, q, dist, qOverN2 } = ws;
  memberSums(g, ws);
  for (let c = 0; c < k; c++) qOverN2[c] = q[c] / (counts[c] * counts[c]);
  let changed = false;
  let inertia = 0;
  for (let i = 0; i < rows; i++) {
    const gii = g[i * rows + i];
    const si = i * k;
    // ties keep the current cluster (so duplicates of a centre never oscillate), then lowest index
    const own = labels[i];
    let bestC = own;
    let bestD = gii - (2 * sums[si + own]) / counts[own] + qOverN2[own];
    for (let c = 0; c < k; c++) {
      // distanceToMean with q_c / n_c^2 hoisted (the same value, so the same rounding)
      const d = gii - (2 * sums[si + c]) / counts[c] + qOverN2[c];
      if (d < bestD) {
        bestD = d;
        bestC = c;
      }
    }
    if (bestC !== own) changed = true;
    labels[i] = bestC;
    dist[i] = bestD;
    inertia += bestD;
  }
  return [changed, inertia];
}

/**
 * Step 5: Hartigan's single-row moves. Moving row i from cluster a to b changes the inertia by
 * n_b/(n_b+1) d(i,b) - n_a/(n_a-1) d(i,a); rows are visited in index order and moved to the best
 * cluster when that lowers the inertia (by more than a relative 1e-12, so float noise cannot
 * cycle). S and Q are updated in place after each move and recomputed at each pass. Lloyd stops
 * at any fixed point; these moves escape many of them, which is what brings one init close to
 * scikit-learn's best of 10. Returns the number of moves.
 */
function hartiganPasses(g: Float64Array, ws: KMeansWorkspace, maxPasses: number): number {
  const { rows, k, labels, counts, sums, q, qOverN2, up, down } = ws;
  // per-cluster terms of the move costs, cached: the same values the inline expressions give
  const refresh = (c: number) => {
    const n = counts[c];
    qOverN2[c] = q[c] / (n * n);
    up[c] = n / (n + 1);
    down[c] = n / (n - 1);
  };
  let moves = 0;
  for (let pass = 0; pass < maxPasses; pass++) {
    memberSums(g, ws);
    for (let c = 0; c < k; c++) refresh(c);
    let moved = false;
    for (let i = 0; i < rows; i++) {
      const a = labels[i];
      if (counts[a] === 1) continue;
      const gii = g[i * rows + i];
      const si = i * k;
      // n_a/(n_a-1) d(i,a): the inertia saved by taking i out of a
      const removeGain = down[a] * (gii - (2 * sums[si + a]) / counts[a] + qOverN2[a]);
      let bestB = -1;
      let bestCost = removeGain;
      for (let b = 0; b < k; b++) {
        if (b === a) continue;
        // n_b/(n_b+1) d(i,b): the inertia added by putting i into b
        const cost = up[b] * (gii - (2 * sums[si + b]) / counts[b] + qOverN2[b]);
        if (cost < bestCost) {
          bestCost = cost;
          bestB = b;
        }
      }
      if (bestB < 0 || !(removeGain - bestCost > 1e-12 * removeGain)) continue;
      // move i from a to bestB: Q_a -= 2 S_ia - G_ii, Q_b += 2 S_ib + G_ii, then S columns
      q[a] = q[a] - 2 * sums[si + a] + gii;
      q[bestB] = q[bestB] + 2 * sums[si + bestB] + gii;
      for (let j = 0; j < rows; j++) {
        const gji = g[j * rows + i];
        sums[j * k + a] -= gji;
        sums[j * k + bestB] += gji;
      }
      counts[a]--;
      counts[bestB]++;
      refresh(a);
      refresh(bestB);
      labels[i] = bestB;
      moved = true;
      moves++;
    }
    if (!moved) break;
  }
  return moves;
}

/**
 * Clusters the rows whose Gram matrix is g (rows x rows) into ws.k clusters; the labels are left
 * in ws.bestLabels.
 */
export function kmeansFromGram(g: Float64Array, ws: KMeansWorkspace, opts: KMeansOptions): KMeansStats {
  let bestInertia = Infinity;
  let bestIterations = 0;
  let bestInit = 0;
  const rng = ws.rng;
  for (let r = 0; r < opts.nInit; r++) {
    rng.reset(initSeed(opts.seed, r));
    seedCentres(g, ws, rng);
    assignToCentres(g, ws);
    let inertia = Infinity;
    let iterations = 0;
    while (iterations < opts.maxIter) {
      fillEmptyClusters(ws);
      const [changed, next] = lloydStep(g, ws);
      iterations++;
      const drop = inertia - next;
      inertia = next;
      if (!changed || drop <= opts.tol * next) break;
    }
    // the last reassignment may have emptied a cluster (or stopped on tol/maxIter): make every
    // cluster non-empty and report the exact inertia of the labels we keep
    fillEmptyClusters(ws);
    if (opts.hartigan) hartiganPasses(g, ws, opts.maxIter);
    inertia = labelInertia(g, ws);
    if (inertia < bestInertia) {
      bestInertia = inertia;
      bestIterations = iterations;
      bestInit = r;
      ws.bestLabels.set(ws.labels);
    }
  }
  return { inertia: bestInertia, iterations: bestIterations, bestInit };
}
