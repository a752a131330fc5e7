// Writes the inputs and the CPU reference results that the native checks of the CUDA kernels
// compare with: native/node-tensorrt/test/hsf_gpu_test.cu (on a GPU) and hsf_host_emulation.cpp
// (the kernel code on CPU threads). Per case folder: tokens, u, t, labels, scores, fused, feature
// (.npy) and params.txt ("k alpha"); the fixture cases also patch_tokens [1,L,N,D] and the official
// topk_indices [1,K] for the top-K gather kernel.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CpuHsfRunner } from '../../src/hsf/cpu.js';
import { syntheticHsfInput } from '../../src/hsf/synthetic-input.js';
import type { HsfInput } from '../../src/hsf/types.js';
import { writeNpy } from '../../src/util/npy.js';
import { HSF_CASES, loadHsfFixture } from './hsf-fixture.js';

const K_CLUSTERS = 20;
const ALPHA = 0.2;

function dump(dir: string, input: HsfInput): string {
  const { batch: b, topK: k, layers: l, embedDim: d } = input;
  const out = new CpuHsfRunner().runSync(input, { kClusters: K_CLUSTERS, alpha: ALPHA });
  mkdirSync(dir, { recursive: true });
  writeNpy(join(dir, 'tokens.npy'), input.tokens, [b, k, l, d]);
  writeNpy(join(dir, 'u.npy'), input.globalFeature, [b, d]);
  writeNpy(join(dir, 't.npy'), input.textFeatures, [b, 2, d]);
  writeNpy(join(dir, 'labels.npy'), out.labels, [b, k]);
  writeNpy(join(dir, 'scores.npy'), out.scores, [b]);
  writeNpy(join(dir, 'fused.npy'), out.fused, [b, d]);
  writeNpy(join(dir, 'feature.npy'), out.clusterFeature ?? new Float32Array(b * d), [b, d]);
  writeFileSync(join(dir, 'params.txt'), `${K_CLUSTERS} ${ALPHA}\n`);
  return `${dir}: B=${b} K=${k} L=${l} D=${d}`;
}

export function syntheticBatch(batch: number): HsfInput {
  return syntheticHsfInput({ batch, rows: 100, layers: 4, dim: 768, seed: 500, featureSeed: 99 });
}

/**
 * Writes one folder per case (fixture_tiny_s126, fixture_tiny_s154 from test/fixtures,
 * synthetic_b32 with `batch` images) into outDir; returns one line per case.
 */
export function writeHsfReferenceDumps(outDir: string, batch = 32): string[] {
  const lines: string[] = [];
  for (const c of HSF_CASES) {
    const fx = loadHsfFixture(c);
    const dir = join(outDir, `fixture_${c}`);
    lines.push(dump(dir, fx.input));
    // for hsf_topk_gather: every patch token and the official top-K order
    writeNpy(join(dir, 'patch_tokens.npy'), fx.patchTokens, [1, 4, fx.patches, fx.input.embedDim]);
    writeNpy(join(dir, 'topk_indices.npy'), fx.topkIndices, [1, fx.input.topK]);
  }
  lines.push(dump(join(outDir, 'synthetic_b32'), syntheticBatch(batch)));
  return lines;
}
