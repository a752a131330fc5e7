// WebAssembly SIMD kernels for the PIL-exact bicubic resize + CLIP normalisation, generated for
// one frame geometry (sizes, strides and tap counts become constants, the tap loops are unrolled).
// They compute exactly what pil-resample.ts + normalize.ts compute (the tests hold them to PIL and
// torchvision bit for bit); only the arithmetic is rearranged:
// - horizontal pass: 4 taps of one pixel run (B,G,R interleaved) are gathered into i16 lanes
//   [c0,c1, c0',c1', ...] and multiplied with i32x4.dot_i16x8_s. The 22-bit PIL coefficient k is
//   split k = hi * 2^15 + lo (0 <= lo < 2^15) so both halves fit i16; the total hi * 2^15 + lo is
//   formed in wrapping i32 arithmetic, which is exact because the true sum fits i32 (as in PIL).
//   The pass writes the three channels to three planes (RGB order), ready for the vertical pass.
// - vertical pass: 16 columns at a time in i32 lanes, then clip to 0..255, then /255, -mean, /std
//   in f32 lanes (IEEE, the same float32 operations torchvision performs), into the CHW tensor.
import {
  buildModule,
  i32x4Bytes,
  op,
  ValType,
  wasm,
  type Code,
  type WasmFunction,
  type WasmModule,
} from './asm.js';

const PRECISION_BITS = 22;
const HALF = 1 << (PRECISION_BITS - 1);
const { I32, F32, V128 } = ValType;
const Z = 0x80; // swizzle index that yields 0

/** Byte lanes picking pixels 0,1 (then 2,3) of a 16-byte run of BGR/RGB bytes into i16 lanes. */
const GATHER = [
  [0, Z, 3, Z, 1, Z, 4, Z, 2, Z, 5, Z, Z, Z, Z, Z],
  [6, Z, 9, Z, 7, Z, 10, Z, 8, Z, 11, Z, Z, Z, Z, Z],
];

export interface KernelGeometry {
  /** Bytes between source rows. */
  srcStride: number;
  /** Output width and height (S). */
  outSize: number;
  /** Groups of 4 horizontal taps per output pixel (enough for the widest window). */
  quads: number;
  /** Vertical taps per output row (the widest window; shorter ones are zero padded). */
  vtaps: number;
  /** Bytes between rows of an intermediate plane (multiple of 16). */
  planeStride: number;
  /** 16-byte column chunks per output row. */
  chunks: number;
  /**
   * Floats between output rows: planeStride when threads share a plane (each row's chunk overrun
   * stays in its own padding), else S (the overrun lands in the next row, which is written later).
   */
  outStride: number;
}

/**
 * horizontal(src, rows, dst0, dst1, dst2, starts, coefs): for each of `rows` source rows from `src`,
 * each output pixel x reads quads*4 pixels from src + starts[x] with 2 x 2 coefficient vectors per
 * quad (lo halves, hi halves) and stores channel k to dstk + row * planeStride + x.
 */
function horizontal(g: KernelGeometry): WasmFunction {
  const [src, rows, dst0, dst1, dst2, starts, coefs] = [0, 1, 2, 3, 4, 5, 6];
  const [y, x, p, d, sp, cp, row] = [7, 8, 9, 10, 11, 12, 13];
  const [v, s, accLo, accHi] = [14, 15, 16, 17];
  const b: Code[] = [];
  b.push(op.i32Const(0), op.localSet(y));
  b.push(op.block, op.loop);
  b.push(op.localGet(y), op.localGet(rows), op.i32LtU, op.i32Eqz, op.brIf(1));
  b.push(op.localGet(src), op.localGet(y), op.i32Const(g.srcStride), op.i32Mul, op.i32Add, op.localSet(row));
  b.push(op.localGet(y), op.i32Const(g.planeStride), op.i32Mul, op.localSet(d));
  b.push(
    op.localGet(starts),
    op.localSet(sp),
    op.localGet(coefs),
    op.localSet(cp),
    op.i32Const(0),
    op.localSet(x),
  );
  b.push(op.block, op.loop);
  b.push(op.localGet(x), op.i32Const(g.outSize), op.i32LtU, op.i32Eqz, op.brIf(1));
  b.push(op.localGet(row), op.localGet(sp), op.i32Load(0), op.i32Add, op.localSet(p));
  b.push(op.v128Const(i32x4Bytes(HALF)), op.localSet(accLo), op.v128Const(i32x4Bytes(0)), op.localSet(accHi));
  for (let q = 0; q < g.quads; q++) {
    b.push(op.localGet(p), op.v128Load(q * 12), op.localSet(v));
    for (let h = 0; h < 2; h++) {
      const c = (q * 2 + h) * 32;
      b.push(op.localGet(v), op.v128Const(GATHER[h]), op.i8x16Swizzle, op.localSet(s));
      b.push(op.localGet(s), op.localGet(cp), op.v128Load(c), op.i32x4DotI16x8S);
      b.push(op.localGet(accLo), op.i32x4Add, op.localSet(accLo));
      b.push(op.localGet(s), op.localGet(cp), op.v128Load(c + 16), op.i32x4DotI16x8S);
      b.push(op.localGet(accHi), op.i32x4Add, op.localSet(accHi));
    }
  }
  // (hi << 15) + lo, >> 22, clip to 0..255: PIL's clip8
  b.push(op.localGet(accHi), op.i32Const(15), op.i32x4Shl, op.localGet(accLo), op.i32x4Add);
  b.push(op.i32Const(PRECISION_BITS), op.i32x4ShrS);
  b.push(
    op.v128Const(i32x4Bytes(255)),
    op.i32x4MinS,
    op.v128Const(i32x4Bytes(0)),
    op.i32x4MaxS,
    op.localSet(s),
  );
  [dst0, dst1, dst2].forEach((dst, k) => {
    b.push(op.localGet(dst), op.localGet(d), op.i32Add, op.localGet(s), op.v128Store8Lane(0, k * 4));
  });
  b.push(op.localGet(d), op.i32Const(1), op.i32Add, op.localSet(d));
  b.push(op.localGet(sp), op.i32Const(4), op.i32Add, op.localSet(sp));
  b.push(op.localGet(cp), op.i32Const(g.quads * 64), op.i32Add, op.localSet(cp));
  b.push(op.localGet(x), op.i32Const(1), op.i32Add, op.localSet(x), op.br(0), op.end, op.end);
  b.push(op.localGet(y), op.i32Const(1), op.i32Add, op.localSet(y), op.br(0), op.end, op.end);
  return {
    name: 'horizontal',
    params: [I32, I32, I32, I32, I32, I32, I32],
    locals: [I32, I32, I32, I32, I32, I32, I32, V128, V128, V128, V128],
    body: b,
  };
}

/**
 * vertical(plane, starts, coefs, out, rows, mean, std): output row r < rows of one channel reads
 * vtaps plane rows from plane + starts[r] (i32 splat coefficients, vtaps per row) and writes
 * chunks * 16 float32 values (S of them meaningful) at out + r * outStride * 4.
 */
function vertical(g: KernelGeometry): WasmFunction {
  const [plane, starts, coefs, out, rows, mean, std] = [0, 1, 2, 3, 4, 5, 6];
  const [r, c, p, o] = [7, 8, 9, 10];
  const [a0, k, v, meanV, stdV] = [11, 15, 16, 17, 18];
  const b: Code[] = [];
  b.push(
    op.localGet(mean),
    op.f32x4Splat,
    op.localSet(meanV),
    op.localGet(std),
    op.f32x4Splat,
    op.localSet(stdV),
  );
  b.push(op.i32Const(0), op.localSet(r));
  b.push(op.block, op.loop);
  b.push(op.localGet(r), op.localGet(rows), op.i32LtU, op.i32Eqz, op.brIf(1));
  b.push(op.localGet(plane), op.localGet(starts), op.i32Load(0), op.i32Add, op.localSet(p));
  b.push(
    op.localGet(out),
    op.localGet(r),
    op.i32Const(g.outStride * 4),
    op.i32Mul,
    op.i32Add,
    op.localSet(o),
  );
  b.push(op.i32Const(0), op.localSet(c));
  b.push(op.block, op.loop);
  b.push(op.localGet(c), op.i32Const(g.chunks), op.i32LtU, op.i32Eqz, op.brIf(1));
  for (let i = 0; i < 4; i++) b.push(op.v128Const(i32x4Bytes(HALF)), op.localSet(a0 + i));
  for (let tap = 0; tap < g.vtaps; tap++) {
    b.push(op.localGet(coefs), op.v128Load(tap * 16), op.localSet(k));
    b.push(op.localGet(p), op.v128Load(tap * g.planeStride), op.localSet(v));
    const widen: [Code, Code][] = [
      [op.i16x8ExtendLowI8x16U, op.i32x4ExtendLowI16x8U],
      [op.i16x8ExtendLowI8x16U, op.i32x4ExtendHighI16x8U],
      [op.i16x8ExtendHighI8x16U, op.i32x4ExtendLowI16x8U],
      [op.i16x8ExtendHighI8x16U, op.i32x4ExtendHighI16x8U],
    ];
    widen.forEach(([to16, to32], i) => {
      b.push(op.localGet(v), to16, to32, op.localGet(k), op.i32x4Mul);
      b.push(op.localGet(a0 + i), op.i32x4Add, op.localSet(a0 + i));
    });
  }
  for (let i = 0; i < 4; i++) {
    b.push(op.localGet(o));
    b.push(op.localGet(a0 + i), op.i32Const(PRECISION_BITS), op.i32x4ShrS);
    b.push(op.v128Const(i32x4Bytes(255)), op.i32x4MinS, op.v128Const(i32x4Bytes(0)), op.i32x4MaxS);
    // ToTensor then Normalize, in float32 like torch: (v / 255 - mean) / std
    b.push(op.f32x4ConvertI32x4S, op.v128Const(f32x4Bytes(255)), op.f32x4Div);
    b.push(op.localGet(meanV), op.f32x4Sub, op.localGet(stdV), op.f32x4Div);
    b.push(op.v128Store(i * 16));
  }
  b.push(op.localGet(p), op.i32Const(16), op.i32Add, op.localSet(p));
  b.push(op.localGet(o), op.i32Const(64), op.i32Add, op.localSet(o));
  b.push(op.localGet(c), op.i32Const(1), op.i32Add, op.localSet(c), op.br(0), op.end, op.end);
  b.push(op.localGet(starts), op.i32Const(4), op.i32Add, op.localSet(starts));
  b.push(op.localGet(coefs), op.i32Const(g.vtaps * 16), op.i32Add, op.localSet(coefs));
  b.push(op.localGet(r), op.i32Const(1), op.i32Add, op.localSet(r), op.br(0), op.end, op.end);
  return {
    name: 'vertical',
    params: [I32, I32, I32, I32, I32, F32, F32],
    locals: [I32, I32, I32, I32, V128, V128, V128, V128, V128, V128, V128, V128],
    body: b,
  };
}

function f32x4Bytes(v: number): number[] {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < 4; i++) dv.setFloat32(i * 4, v, true);
  return Array.from(b);
}

/**
 * The compiled horizontal + vertical kernels for one geometry. `sharedPages`: import a shared memory
 * of exactly that many pages (for worker threads) instead of a plain one.
 */
export function kernelModule(g: KernelGeometry, sharedPages?: number): WasmModule {
  return new wasm.Module(buildModule([horizontal(g), vertical(g)], sharedPages));
}
