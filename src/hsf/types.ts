// The one HSF (Hybrid Semantic Fusion) interface. The engine's outputs decide where it runs:
// on the CPU (native or TypeScript, index.ts) when they are on the host, on the GPU (node-tensorrt) when
// they stay there.

export interface HsfSettings {
  kClusters: number;
  alpha: number;
}

/** A batch of HSF inputs on the host. Shapes as in docs/model-bundle.md. */
export interface HsfInput {
  batch: number;
  topK: number;
  layers: number;
  embedDim: number;
  /** float32 [B,K,L,D]: the selected per-layer projected patch tokens, in top-K order. */
  tokens: Float32Array;
  /** float32 [B,D]: u, the projected global feature. */
  globalFeature: Float32Array;
  /** float32 [B,2,D]: t_normal, t_abnormal. */
  textFeatures: Float32Array;
}

export interface HsfResult {
  /** [B] fused anomaly score: softmax(100 u'.t)[abnormal]. */
  scores: Float32Array;
  /** [B,D] fused feature u'. */
  fused: Float32Array;
  /** [B,K] cluster label of each selected token. */
  labels: Int32Array;
  /** [B,D] f: the normalised mean of the cluster centres, before the fusion with u (for parity checks). */
  clusterFeature?: Float32Array;
  /** [B] K-Means inertia (sum of squared distances to the cluster means) of the kept run. */
  inertia?: Float64Array;
}

export interface HsfRunner {
  readonly kind: 'cpu' | 'gpu';
  run(input: HsfInput, settings: HsfSettings): Promise<HsfResult>;
}
