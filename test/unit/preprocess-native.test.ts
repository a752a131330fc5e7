// The native CPU preprocessing (node-tensorrt's pp_cpu.cpp) against the plain TypeScript port of PIL
// (which the integration tests hold to PIL and torchvision): identical tensors for every kernel this
// CPU runs (AVX2 or NEON, and the portable one), any geometry, channel order, stride and thread
// count; and clear errors for bad arguments. The addon is built by setup (and so in CI, without a
// GPU toolchain too): without it these tests fail and say why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  loadPreprocessCpuBinding,
  NativePreprocessKernel,
  type PreprocessCpuBinding,
} from '../../src/preprocess/native-kernel.js';
import { CLIP_MEAN, CLIP_STD } from '../../src/preprocess/normalize.js';
import { defaultPreprocessKernel, Preprocessor } from '../../src/preprocess/preprocess.js';

let binding: PreprocessCpuBinding | undefined;
let whyNot = '';
try {
  binding = loadPreprocessCpuBinding();
} catch (err) {
  whyNot = `native preprocessing unavailable: ${(err as Error).message}`;
}
/** Fails (never skips) where the addon is missing: setup builds it on every machine. */
function requireBinding(): void {
  assert.ok(binding, `${whyNot}: run scripts/setup.sh (it builds native/node-tensorrt)`);
}

function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    // mostly extremes: hard edges overshoot and exercise the clipping
    out[i] = s >>> 31 ? ((s >>> 30) & 1 ? 255 : 0) : s >>> 24;
  }
  return out;
}

function differing(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) n++;
  return n;
}

test('the native kernel is the default where the addon is built', () => {
  requireBinding();
  assert.equal(defaultPreprocessKernel(), 'native');
  assert.ok(binding!.kernels.includes('portable'), binding!.kernels.join());
  assert.ok(binding!.kernels.includes(binding!.kernel), binding!.kernel);
});

test('every native kernel gives the reference tensor for shrinking, enlarging, odd and extreme sizes', () => {
  requireBinding();
  const cases: [number, number, number][] = [
    [1920, 1080, 518],
    [1920, 1080, 336],
    [300, 200, 518],
    [1001, 667, 336],
    [37, 23, 29],
    [2, 1, 16],
    [1, 1, 3],
    [1000, 3, 5],
    [3, 1000, 7],
    [518, 518, 518],
    [64, 64, 1],
  ];
  cases.forEach(([w, h, size], i) => {
    const rgb = noise(w * h * 3, i + 1);
    const want = new Preprocessor({ size, kernel: 'reference' }).rgb(rgb, w, h).data;
    for (const kernel of binding!.kernels) {
      for (const threads of [1, 2]) {
        const k = new NativePreprocessKernel(w, h, size, CLIP_MEAN, CLIP_STD, threads, kernel);
        try {
          assert.equal(k.kernel, kernel);
          const out = new Float32Array(3 * size * size + 5).fill(NaN);
          k.run({ data: rgb, width: w, height: h, stride: w * 3, offset: 0 }, false, out, 5);
          const n = differing(out.subarray(5), want);
          assert.equal(n, 0, `${kernel} x${threads} ${w}x${h} -> ${size}: ${n} values differ`);
          assert.ok(Number.isNaN(out[4]), 'wrote before its offset');
        } finally {
          k.close();
        }
      }
    }
  });
});

test('the Preprocessor with the native kernel reads strided crops and honours mean/std, on 1 and 3 threads', () => {
  requireBinding();
  const W = 333;
  const H = 211;
  const rgb = noise(W * H * 3, 42);
  const opts = { size: 97, mean: [0.1, 0.5, 0.9], std: [0.3, 0.2, -0.7] };
  const view = { roi: { x: 13, y: 7, width: 301, height: 190 } };
  for (const threads of [1, 3]) {
    const native = new Preprocessor({ ...opts, kernel: 'native', threads });
    const ref = new Preprocessor({ ...opts, kernel: 'reference' });
    const a = native.rgb(rgb, W, H, view);
    const b = ref.rgb(rgb, W, H, view);
    assert.equal(differing(a.data, b.data), 0, `rgb crop x${threads}`);
    assert.deepEqual(a.source, b.source);
    // the same frame again: nothing of the previous frame leaks into the next
    const again = noise(W * H * 3, 43);
    assert.equal(differing(native.rgb(again, W, H, view).data, ref.rgb(again, W, H, view).data), 0);
    native.close();
  }
});

test('native resizer arguments: every bad one is named', () => {
  requireBinding();
  const { Resizer } = binding!;
  const good = { width: 8, height: 6, size: 4, mean: [0, 0, 0], std: [1, 1, 1] };
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ ...good, width: 0 }, /width must be an integer in 1\.\./],
    [{ ...good, size: 1.5 }, /size must be an integer/],
    [{ ...good, threads: 0 }, /threads must be an integer in 1\.\.64/],
    [{ ...good, std: [1, 0, 1] }, /std\[1\] must be a finite non-zero number/],
    [{ ...good, mean: [0, 0] }, /mean must be an array of 3 numbers/],
    [{ ...good, kernel: 'sse9' }, /kernel must be "avx2", "neon" or "portable"/],
  ];
  for (const [opts, message] of bad) {
    assert.throws(() => new Resizer(opts as never), message, JSON.stringify(opts));
  }
  const missing = ['avx2', 'neon'].find((k) => !binding!.kernels.includes(k));
  if (missing) {
    assert.throws(() => new Resizer({ ...good, kernel: missing }), /does not run on this machine/);
  }
  const r = new Resizer(good);
  const src = new Uint8Array(8 * 6 * 3);
  const out = new Float32Array(3 * 4 * 4);
  assert.throws(() => r.run(src, 1, 24, true, out, 0), /144 bytes cannot hold a 8x6x3 image at offset 1/);
  assert.throws(() => r.run(src, 0, 23, true, out, 0), /stride 23 is shorter than a row of 24 bytes/);
  assert.throws(
    () => r.run(src, 0, 24, true, out, 1),
    /output of 48 floats cannot take an image of 48 at offset 1/,
  );
  assert.throws(() => r.run(src, -1, 24, true, out, 0), /offset must be a non-negative integer/);
  assert.throws(() => r.run(new Float32Array(144) as never, 0, 24, true, out, 0), /src: Uint8Array/);
  r.run(src, 0, 24, true, out, 0);
  r.close();
  assert.equal(r.kernel, null);
  assert.throws(() => r.run(src, 0, 24, true, out, 0), /this resizer is closed/);
});
