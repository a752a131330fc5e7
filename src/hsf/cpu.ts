// HSF on the CPU in TypeScript: per image, Gram matrix of the selected tokens (float64), the
// deterministic K-Means of kmeans-gram.ts, centre averaging and fusion. Scratch is allocated once
// per shape and reused, so a steady stream of frames allocates only the result arrays.
import { FusionWorkspace, clusterCentres, fuseAndScore } from './fusion.js';
import { gramFloat64Fast } from './gram-wasm.js';
import { DEFAULT_KMEANS, KMeansWorkspace, kmeansFromGram, type KMeansOptions } from './kmeans-gram.js';
import type { HsfInput, HsfResult, HsfRunner, HsfSettings } from './types.js';
import { HsfInputError, validateHsfInput } from './validate.js';

interface Workspace {
  gram: Float64Array;
  kmeans: KMeansWorkspace;
  fusion: FusionWorkspace;
}

export class CpuHsfRunner implements HsfRunner {
  readonly kind = 'cpu' as const;
  readonly kmeans: KMeansOptions;
  private workspace: Workspace | undefined;
  private workspaceKey = '';

  constructor(kmeans: Partial<KMeansOptions> = {}) {
    this.kmeans = { ...DEFAULT_KMEANS, ...kmeans };
    if (!Number.isInteger(this.kmeans.nInit) || this.kmeans.nInit < 1) {
      throw new Error(`HSF: nInit must be a positive integer, got ${this.kmeans.nInit}`);
    }
    if (!Number.isInteger(this.kmeans.maxIter) || this.kmeans.maxIter < 1) {
      throw new Error(`HSF: maxIter must be a positive integer, got ${this.kmeans.maxIter}`);
    }
  }

  async run(input: HsfInput, settings: HsfSettings): Promise<HsfResult> {
    return this.runSync(input, settings);
  }

  /** The same as run(), without the promise (benchmarks, callers already off the event loop). */
  runSync(input: HsfInput, settings: HsfSettings): HsfResult {
    validateHsfInput(input, settings);
    const { batch, topK, layers, embedDim } = input;
    const k = settings.kClusters;
    const rowLength = layers * embedDim;
    const ws = this.workspaceFor(topK, k, embedDim);
    const scores = new Float32Array(batch);
    const fused = new Float32Array(batch * embedDim);
    const clusterFeature = new Float32Array(batch * embedDim);
    const labels = new Int32Array(batch * topK);
    const inertia = new Float64Array(batch);
    for (let b = 0; b < batch; b++) {
      const tokenOffset = b * topK * rowLength;
      gramFloat64Fast(input.tokens, tokenOffset, topK, rowLength, ws.gram);
      for (let i = 0; i < topK; i++) {
        if (!Number.isFinite(ws.gram[i * topK + i])) {
          throw new HsfInputError(`HSF: image ${b}, selected token ${i} has a non-finite value`);
        }
      }
      const stats = kmeansFromGram(ws.gram, ws.kmeans, this.kmeans);
      inertia[b] = stats.inertia;
      labels.set(ws.kmeans.bestLabels, b * topK);
      clusterCentres(input.tokens, tokenOffset, topK, layers, labels, b * topK, ws.fusion);
      scores[b] = fuseAndScore(
        ws.fusion,
        input.globalFeature,
        b * embedDim,
        input.textFeatures,
        b * 2 * embedDim,
        settings.alpha,
      );
      fused.set(ws.fusion.fused, b * embedDim);
      clusterFeature.set(ws.fusion.feature, b * embedDim);
    }
    return { scores, fused, labels, clusterFeature, inertia };
  }

  private workspaceFor(topK: number, k: number, embedDim: number): Workspace {
    const key = `${topK},${k},${embedDim}`;
    if (!this.workspace || this.workspaceKey !== key) {
      this.workspace = {
        gram: new Float64Array(topK * topK),
        kmeans: new KMeansWorkspace(topK, k),
        fusion: new FusionWorkspace(k, embedDim),
      };
      this.workspaceKey = key;
    }
    return this.workspace;
  }
}
