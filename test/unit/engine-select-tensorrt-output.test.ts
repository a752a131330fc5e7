// How the TensorRT backend maps the addon's named outputs to EngineOutput (pure: no addon needed).
// The addon result below is hand-made in the addon's format, standing in for a real engine run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { engineOutputFrom, type NativeInferResult } from '../../src/engines/tensorrt.js';

const dims = { batch: 2, imageSize: 4, embedDim: 3, topK: 2, layers: 2 };

function result(): NativeInferResult {
  const { batch: B, imageSize: S, embedDim: D, topK: K, layers: L } = dims;
  const ramp = (n: number, from: number) => Float32Array.from({ length: n }, (_, i) => from + i);
  return {
    outputs: {
      anomaly_map: { data: ramp(B * S * S, 0), shape: [B, S, S], dtype: 'float32' },
      global_feature: { data: ramp(B * D, 100), shape: [B, D], dtype: 'float32' },
      text_features: { data: ramp(B * 2 * D, 200), shape: [B, 2, D], dtype: 'float32' },
      hsf_indices: { data: BigInt64Array.from([3n, 1n, 0n, 2n]), shape: [B, K], dtype: 'int64' },
      hsf_tokens: { data: ramp(B * K * L * D, 300), shape: [B, K, L, D], dtype: 'float32' },
    },
  };
}

test('outputs map by name; int64 indices become Int32Array', () => {
  const r = result();
  const out = engineOutputFrom(r, dims);
  assert.equal(out.anomalyMap, r.outputs.anomaly_map.data);
  assert.equal(out.globalFeature, r.outputs.global_feature.data);
  assert.equal(out.textFeatures, r.outputs.text_features.data);
  assert.equal(out.hsfTokens, r.outputs.hsf_tokens.data);
  assert.ok(out.hsfIndices instanceof Int32Array);
  assert.deepEqual(Array.from(out.hsfIndices), [3, 1, 0, 2]);
  assert.deepEqual([out.batch, out.imageSize, out.embedDim, out.topK, out.layers], [2, 4, 3, 2, 2]);
});

test('int32 indices (an engine built with int32 IO) pass through', () => {
  const r = result();
  r.outputs.hsf_indices = { data: Int32Array.from([3, 1, 0, 2]), shape: [2, 2], dtype: 'int32' };
  assert.deepEqual(Array.from(engineOutputFrom(r, dims).hsfIndices), [3, 1, 0, 2]);
});

test('a missing output or a wrong shape names the output', () => {
  const missing = result();
  delete (missing.outputs as Record<string, unknown>).text_features;
  assert.throws(() => engineOutputFrom(missing, dims), /output text_features missing/);
  const wrong = result();
  wrong.outputs.anomaly_map.shape = [2, 4, 5];
  assert.throws(() => engineOutputFrom(wrong, dims), /anomaly_map has shape \[2,4,5\], expected \[2,4,4\]/);
});

test('hsf_tokens kept on the device are not required and come back empty', () => {
  const r = result();
  delete (r.outputs as Record<string, unknown>).hsf_tokens;
  const out = engineOutputFrom(r, dims, { tokensOnDevice: true });
  assert.equal(out.hsfTokens.length, 0);
  assert.throws(() => engineOutputFrom(r, dims), /hsf_tokens missing/);
});
