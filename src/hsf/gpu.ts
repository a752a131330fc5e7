// The seam for HSF on the GPU: the node-tensorrt addon (native/node-tensorrt, its own cmake-js
// build) compiles the CUDA kernels of native/node-tensorrt/src/hsf (C API hsf_cuda.h) and exposes
// them as `addon.hsf`. Until it does, asking for the GPU runner fails with a clear error and
// `auto` uses the CPU. (The TensorRT session runs HSF on its device buffers itself; this runner is
// for host inputs, e.g. the onnxruntime engine on a GPU machine, and for checks.)
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { HsfInput, HsfResult, HsfRunner, HsfSettings } from './types.js';
import { validateHsfInput } from './validate.js';

/** What the addon's `hsf` object must provide (the binding copies in, runs hsf_run_batch, copies out). */
export interface HsfAddonBinding {
  /** True when the kernels are built in and a CUDA device is present. */
  available(): boolean;
  /** Why not available (no device, no driver, built without CUDA, ...). */
  reason(): string;
  /** Synchronous hsf_run_batch on host arrays; throws with hsf_last_error() on failure. */
  runBatch(args: {
    tokens: Float32Array;
    globalFeature: Float32Array;
    textFeatures: Float32Array;
    batch: number;
    topK: number;
    layers: number;
    embedDim: number;
    kClusters: number;
    alpha: number;
  }): {
    scores: Float32Array;
    fused: Float32Array;
    labels: Int32Array;
    feature?: Float32Array;
    inertia?: Float64Array;
  };
}

export class HsfGpuUnavailableError extends Error {
  override name = 'HsfGpuUnavailableError';
}

function addonPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = join(dir, 'native', 'node-tensorrt', 'build', 'Release', 'node_tensorrt.node');
    if (existsSync(p)) return p;
    dir = dirname(dir);
  }
  throw new HsfGpuUnavailableError(
    'GPU HSF unavailable: node-tensorrt addon not built (native/node-tensorrt/build.sh)',
  );
}

/** Loads the addon's hsf binding, or throws HsfGpuUnavailableError saying why. */
export function loadHsfGpuBinding(): HsfAddonBinding {
  const path = addonPath();
  let addon: { hsf?: HsfAddonBinding };
  try {
    addon = createRequire(import.meta.url)(path) as { hsf?: HsfAddonBinding };
  } catch (err) {
    throw new HsfGpuUnavailableError(
      `GPU HSF unavailable: loading ${path} failed: ${(err as Error).message}`,
    );
  }
  if (!addon.hsf || typeof addon.hsf.runBatch !== 'function') {
    throw new HsfGpuUnavailableError(
      `GPU HSF unavailable: ${path} has no hsf binding (built without the HSF kernels)`,
    );
  }
  if (!addon.hsf.available()) throw new HsfGpuUnavailableError(`GPU HSF unavailable: ${addon.hsf.reason()}`);
  return addon.hsf;
}

/** HsfRunner over the addon: same algorithm as the CPU runner, identical labels (CUDA port). */
export class GpuHsfRunner implements HsfRunner {
  readonly kind = 'gpu' as const;

  constructor(private readonly binding: HsfAddonBinding) {}

  async run(input: HsfInput, settings: HsfSettings): Promise<HsfResult> {
    validateHsfInput(input, settings);
    const out = this.binding.runBatch({ ...input, kClusters: settings.kClusters, alpha: settings.alpha });
    return {
      scores: out.scores,
      fused: out.fused,
      labels: out.labels,
      clusterFeature: out.feature,
      inertia: out.inertia,
    };
  }
}

export function createGpuHsfRunner(): HsfRunner {
  return new GpuHsfRunner(loadHsfGpuBinding());
}
