// The WebAssembly SIMD kernels against the plain TypeScript port of PIL (which the integration
// tests hold to PIL and torchvision): identical tensors for any geometry, channel order and stride.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Preprocessor } from '../../src/preprocess/preprocess.js';
import { buildModule, op, ValType, wasm } from '../../src/preprocess/wasm/asm.js';
import { hasWasmSimd } from '../../src/preprocess/wasm/simd-preprocess.js';

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

/** Node 20+ always has WebAssembly SIMD: a runtime without it fails here instead of passing silently. */
function requireSimd(): void {
  assert.ok(
    hasWasmSimd(),
    'WebAssembly SIMD not available in this runtime: the project needs Node.js >= 20.19',
  );
}

test('SIMD kernels give the reference tensor for shrinking, enlarging, odd and extreme sizes', () => {
  requireSimd();
  const cases: [number, number, number][] = [
    [1920, 1080, 518],
    [300, 200, 518],
    [640, 480, 224],
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
    const simd = new Preprocessor({ size, kernel: 'simd' });
    const ref = new Preprocessor({ size, kernel: 'reference' });
    const a = simd.rgb(rgb, w, h).data;
    const b = ref.rgb(rgb, w, h).data;
    let diff = 0;
    for (let j = 0; j < a.length; j++) if (a[j] !== b[j]) diff++;
    assert.equal(diff, 0, `${w}x${h} -> ${size}: ${diff} of ${a.length} values differ`);
    // the kernel is reused for the next frame of the same size: no state leaks between frames
    const again = simd.rgb(noise(w * h * 3, i + 100), w, h).data;
    assert.deepEqual(again, ref.rgb(noise(w * h * 3, i + 100), w, h).data, `${w}x${h} second frame`);
  });
});

test('SIMD kernels read strided crops and honour mean/std', () => {
  requireSimd();
  const W = 333;
  const H = 211;
  const rgb = noise(W * H * 3, 42);
  const opts = { size: 97, mean: [0.1, 0.5, 0.9], std: [0.3, 0.2, 0.7] };
  const view = { roi: { x: 13, y: 7, width: 301, height: 190 } };
  const a = new Preprocessor({ ...opts, kernel: 'simd' }).rgb(rgb, W, H, view);
  const b = new Preprocessor({ ...opts, kernel: 'reference' }).rgb(rgb, W, H, view);
  assert.deepEqual(a.data, b.data);
  assert.deepEqual(a.source, b.source);
});

test('the assembler encodes a module V8 accepts and runs', () => {
  // add(a, b) stored at address 0: checks sections, LEB128 and the memory import
  const bytes = buildModule([
    {
      name: 'store_sum',
      params: [ValType.I32, ValType.I32],
      locals: [],
      body: [op.i32Const(0), op.localGet(0), op.localGet(1), op.i32Add, [0x36, 0x02, 0x00]],
    },
  ]);
  const api = wasm;
  const memory = new api.Memory({ initial: 1 });
  const { exports } = new api.Instance(new api.Module(bytes), { env: { memory } });
  (exports as { store_sum: (a: number, b: number) => void }).store_sum(40000, -300000);
  assert.equal(new Int32Array(memory.buffer)[0], -260000);
});

test('worker threads split a frame without changing a value', () => {
  requireSimd();
  for (const [w, h, size, threads] of [
    [1920, 1080, 518, 2],
    [640, 480, 224, 3],
    [37, 23, 29, 4],
    [5, 3, 2, 3],
  ]) {
    const rgb = noise(w * h * 3, w + h);
    const ref = new Preprocessor({ size, kernel: 'reference' }).rgb(rgb, w, h).data;
    const p = new Preprocessor({ size, kernel: 'simd', threads });
    try {
      for (let frame = 0; frame < 3; frame++) {
        assert.deepEqual(
          p.rgb(rgb, w, h).data,
          ref,
          `${w}x${h} -> ${size} with ${threads} threads, frame ${frame}`,
        );
      }
    } finally {
      p.close();
    }
  }
  assert.throws(() => new Preprocessor({ size: 8, threads: 0 }), /threads must be an integer in 1\.\.64/);
});
