// WebAssembly SIMD version of GaussianFilter's two passes: two neighbouring outputs per f64x2
// vector, with exactly scipy's per-output float64 operations (centre * w0, then for j = r..1:
// acc += (left + right) * w_j), and float32 stores between and after the passes. So its results
// are bit-identical to the TypeScript filter (and to scipy); it is only faster.
import {
  buildModule,
  op,
  ValType,
  wasm,
  type Code,
  type WasmFunction,
  type WasmMemory,
} from '../preprocess/wasm/asm.js';

const { I32, V128 } = ValType;
const align = (n: number): number => Math.ceil(n / 16) * 16;

interface Passes {
  axis0(input: number, tmp: number, weights: number): void;
  axis1(tmp: number, out: number, weights: number): void;
}

/** Emits `body(offsetLocal)` for byte offsets 0, 8, ... of the column pairs (see pairStarts). */
function forEachPair(width: number, offset: number, body: () => Code[]): Code[] {
  const b: Code[] = [];
  const evenEnd = Math.floor(width / 2) * 8;
  b.push(op.i32Const(0), op.localSet(offset));
  b.push(op.block, op.loop);
  b.push(op.localGet(offset), op.i32Const(evenEnd), op.i32LtU, op.i32Eqz, op.brIf(1));
  b.push(...body());
  b.push(op.localGet(offset), op.i32Const(8), op.i32Add, op.localSet(offset), op.br(0), op.end, op.end);
  if (width % 2 === 1) b.push(op.i32Const((width - 2) * 4), op.localSet(offset), ...body());
  return b;
}

interface PairLocals {
  /** Row start the taps are read from; x is the pair's byte offset in it, o the output row. */
  base: number;
  x: number;
  o: number;
  p: number;
  acc: number;
  /** First of the r + 1 weight locals. */
  w: number;
}

/**
 * Two neighbouring outputs of the symmetric stencil, in scipy's order: centre * w0, then for
 * j = r..1 acc += (left + right) * w_j; stored as two float32. `load(t)` reads tap t at p.
 */
function symmetricPair(l: PairLocals, r: number, load: (tap: number) => Code[]): Code[] {
  const b: Code[] = [op.localGet(l.base), op.localGet(l.x), op.i32Add, op.localSet(l.p)];
  b.push(op.localGet(l.o), op.localGet(l.x), op.i32Add);
  b.push(...load(r), op.localGet(l.w), op.f64x2Mul, op.localSet(l.acc));
  for (let j = r; j >= 1; j--) {
    b.push(...load(r - j), ...load(r + j), op.f64x2Add);
    b.push(op.localGet(l.w + j), op.f64x2Mul, op.localGet(l.acc), op.f64x2Add, op.localSet(l.acc));
  }
  b.push(op.localGet(l.acc), op.f32x4DemoteF64x2Zero, op.v128Store64Lane(0, 0));
  return b;
}

// axis0(input, tmp, weights): input holds the map with r reflected rows above and below, so tap t
// of output row y is input row y + t at a constant offset; writes row y of tmp (padded rows of
// width + 2r floats, at column r).
function axis0(height: number, width: number, r: number): WasmFunction {
  const [input, tmp, weights] = [0, 1, 2];
  const [y, x, o, p] = [3, 4, 5, 6];
  const acc = 7;
  const w = 8; // r + 1 v128 locals: w0, w1 .. wr (weight at distance j)
  const load = (tap: number): Code[] => [
    op.localGet(p),
    op.v128Load64Zero(tap * width * 4),
    op.f64x2PromoteLowF32x4,
  ];
  const pair = (): Code[] => symmetricPair({ base: input, x, o, p, acc, w }, r, load);
  const b: Code[] = [];
  for (let j = 0; j <= r; j++) b.push(op.localGet(weights), op.v128Load(j * 16), op.localSet(w + j));
  b.push(op.i32Const(0), op.localSet(y));
  b.push(op.localGet(tmp), op.i32Const(r * 4), op.i32Add, op.localSet(o));
  b.push(op.block, op.loop);
  b.push(op.localGet(y), op.i32Const(height), op.i32LtU, op.i32Eqz, op.brIf(1));
  b.push(...forEachPair(width, x, pair));
  b.push(op.localGet(input), op.i32Const(width * 4), op.i32Add, op.localSet(input));
  b.push(op.localGet(o), op.i32Const((width + 2 * r) * 4), op.i32Add, op.localSet(o));
  b.push(op.localGet(y), op.i32Const(1), op.i32Add, op.localSet(y), op.br(0), op.end, op.end);
  return {
    name: 'axis0',
    params: [I32, I32, I32],
    locals: [I32, I32, I32, I32, V128, ...new Array<ValType>(r + 1).fill(V128)],
    body: b,
  };
}

// axis1(tmp, out, weights): row y of tmp (reflect-padded by r floats each side) -> row y of out.
function axis1(height: number, width: number, r: number): WasmFunction {
  const [tmp, out, weights] = [0, 1, 2];
  const [y, line, o, x, p] = [3, 4, 5, 6, 7];
  const acc = 8;
  const w = 9;
  const load = (at: number): Code[] => [op.localGet(p), op.v128Load64Zero(at * 4), op.f64x2PromoteLowF32x4];
  const pair = (): Code[] => symmetricPair({ base: line, x, o, p, acc, w }, r, load);
  const b: Code[] = [];
  for (let j = 0; j <= r; j++) b.push(op.localGet(weights), op.v128Load(j * 16), op.localSet(w + j));
  b.push(op.i32Const(0), op.localSet(y));
  b.push(op.localGet(tmp), op.localSet(line), op.localGet(out), op.localSet(o));
  b.push(op.block, op.loop);
  b.push(op.localGet(y), op.i32Const(height), op.i32LtU, op.i32Eqz, op.brIf(1));
  b.push(...forEachPair(width, x, pair));
  b.push(op.localGet(line), op.i32Const((width + 2 * r) * 4), op.i32Add, op.localSet(line));
  b.push(op.localGet(o), op.i32Const(width * 4), op.i32Add, op.localSet(o));
  b.push(op.localGet(y), op.i32Const(1), op.i32Add, op.localSet(y), op.br(0), op.end, op.end);
  return {
    name: 'axis1',
    params: [I32, I32, I32],
    locals: [I32, I32, I32, I32, I32, V128, ...new Array<ValType>(r + 1).fill(V128)],
    body: b,
  };
}

/**
 * The two passes for one map size and kernel. `rowIndex`/`colIndex` give the reflected source index
 * of each padded position (length size + 2r), as GaussianFilter computes them.
 */
export class SimdGaussianPasses {
  private readonly passes: Passes;
  private readonly f32: Float32Array;
  private readonly at: { input: number; tmp: number; out: number; weights: number };
  private readonly memory: WasmMemory;

  constructor(
    readonly height: number,
    readonly width: number,
    weights: Float64Array,
    private readonly rowIndex: Int32Array,
    private readonly colIndex: Int32Array,
  ) {
    if (width < 2) throw new Error(`SIMD gaussian needs a width of at least 2, got ${width}`);
    const r = (weights.length - 1) / 2;
    const sizes = {
      input: (height + 2 * r) * width * 4,
      tmp: height * (width + 2 * r) * 4,
      out: height * width * 4,
      weights: (r + 1) * 16,
    };
    let end = 0;
    const at = {} as Record<keyof typeof sizes, number>;
    for (const [name, n] of Object.entries(sizes) as [keyof typeof sizes, number][]) {
      at[name] = end;
      end = align(end + n + 16);
    }
    this.at = at;
    this.memory = new wasm.Memory({ initial: Math.ceil(end / 65536) });
    this.f32 = new Float32Array(this.memory.buffer);
    const dv = new DataView(this.memory.buffer);
    for (let j = 0; j <= r; j++) {
      dv.setFloat64(at.weights + j * 16, weights[r - j], true);
      dv.setFloat64(at.weights + j * 16 + 8, weights[r - j], true);
    }
    const module = new wasm.Module(buildModule([axis0(height, width, r), axis1(height, width, r)]));
    this.passes = new wasm.Instance(module, { env: { memory: this.memory } }).exports as Passes;
  }

  run(input: Float32Array, out: Float32Array): void {
    const { height: h, width: w, at, f32, rowIndex, colIndex } = this;
    const r = (colIndex.length - w) / 2;
    // the map with r reflected rows above and below
    f32.set(input, at.input / 4 + r * w);
    for (let i = 0; i < r; i++) {
      const above = rowIndex[i] * w;
      const below = rowIndex[r + h + i] * w;
      f32.set(input.subarray(above, above + w), at.input / 4 + i * w);
      f32.set(input.subarray(below, below + w), at.input / 4 + (r + h + i) * w);
    }
    this.passes.axis0(at.input, at.tmp, at.weights);
    // reflect-pad each intermediate row for the axis-1 pass
    const stride = w + 2 * r;
    for (let y = 0; y < h; y++) {
      const row = at.tmp / 4 + y * stride;
      for (let i = 0; i < r; i++) {
        f32[row + i] = f32[row + r + colIndex[i]];
        f32[row + r + w + i] = f32[row + r + colIndex[r + w + i]];
      }
    }
    this.passes.axis1(at.tmp, at.out, at.weights);
    out.set(f32.subarray(at.out / 4, at.out / 4 + h * w));
  }
}
