// Which rows of a map hold a value that is not below a limit (NaN counts: it must be reported). Every
// frame's 518 x 518 map is scanned once before anything else happens to it, and on a good line the
// answer is "none", so this scan is the post-processing cost of a normal frame: WebAssembly SIMD
// compares four values at a time (about 10x the JavaScript loop, which V8 does not vectorise), with
// the loop as the fallback where SIMD is missing. No library scans a Float32Array this way.
import {
  buildModule,
  hasWasmSimd,
  op,
  ValType,
  wasm,
  type Code,
  type WasmMemory,
} from '../preprocess/wasm/asm.js';

const { I32, V128 } = ValType;
const ALL_ONES = new Array<number>(16).fill(0xff);

/**
 * hotRows(map, rows, cols, limitPtr, out): out[y] (i32) = 1 when row y has a value v with
 * !(v < limit), else 0; limitPtr holds the limit four times. Needs cols >= 4: the last load of a
 * row overlaps the one before it instead of reading past the row.
 */
function kernel(): Uint8Array {
  const [map, rows, cols, limitPtr, out] = [0, 1, 2, 3, 4];
  const [y, p, end, lim, acc] = [5, 6, 7, 8, 9];
  const cold = (): Code[] => [op.f32x4Lt, op.localGet(acc), op.v128And, op.localSet(acc)];
  const b: Code[] = [op.localGet(limitPtr), op.v128Load(0), op.localSet(lim), op.i32Const(0), op.localSet(y)];
  b.push(op.block, op.loop);
  b.push(op.localGet(y), op.localGet(rows), op.i32LtU, op.i32Eqz, op.brIf(1));
  // end = map + (cols - 4) * 4: the start of the row's last four values
  b.push(
    op.localGet(map),
    op.localGet(cols),
    op.i32Const(4),
    op.i32Sub,
    op.i32Const(4),
    op.i32Mul,
    op.i32Add,
  );
  b.push(op.localSet(end), op.v128Const(ALL_ONES), op.localSet(acc), op.localGet(map), op.localSet(p));
  b.push(op.block, op.loop);
  b.push(op.localGet(p), op.localGet(end), op.i32LtU, op.i32Eqz, op.brIf(1));
  b.push(op.localGet(p), op.v128Load(0), op.localGet(lim), ...cold());
  b.push(op.localGet(p), op.i32Const(16), op.i32Add, op.localSet(p), op.br(0), op.end, op.end);
  b.push(op.localGet(end), op.v128Load(0), op.localGet(lim), ...cold());
  // out[y] = !all_true(acc)
  b.push(op.localGet(out), op.localGet(y), op.i32Const(4), op.i32Mul, op.i32Add);
  b.push(op.localGet(acc), op.i32x4AllTrue, op.i32Eqz, op.i32Store(0));
  b.push(op.localGet(map), op.localGet(cols), op.i32Const(4), op.i32Mul, op.i32Add, op.localSet(map));
  b.push(op.localGet(y), op.i32Const(1), op.i32Add, op.localSet(y), op.br(0), op.end, op.end);
  return buildModule([
    { name: 'hotRows', params: [I32, I32, I32, I32, I32], locals: [I32, I32, I32, V128, V128], body: b },
  ]);
}

interface HotRowsExports {
  hotRows(map: number, rows: number, cols: number, limitPtr: number, out: number): void;
}

let compiled: unknown;

/** Scans maps of one size; reuses its WebAssembly memory from call to call. */
export class HotRowScanner {
  readonly kernel: 'simd' | 'javascript';
  private readonly exports: HotRowsExports | undefined;
  private readonly memory: WasmMemory | undefined;
  private readonly at = { map: 0, limit: 0, out: 0 };

  constructor(
    readonly rows: number,
    readonly cols: number,
  ) {
    this.kernel = hasWasmSimd() && cols >= 4 ? 'simd' : 'javascript';
    if (this.kernel === 'javascript') return;
    const mapBytes = rows * cols * 4;
    this.at = { map: 0, limit: Math.ceil(mapBytes / 16) * 16, out: Math.ceil(mapBytes / 16) * 16 + 16 };
    this.memory = new wasm.Memory({ initial: Math.ceil((this.at.out + rows * 4) / 65536) });
    compiled ??= new wasm.Module(kernel());
    this.exports = new wasm.Instance(compiled as never, { env: { memory: this.memory } })
      .exports as unknown as HotRowsExports;
  }

  /** flags[y] = 1 when row y has a value that is not below limit; returns whether any row has. */
  scan(map: Float32Array, limit: number, flags: Uint8Array): boolean {
    const { rows, cols } = this;
    if (map.length !== rows * cols)
      throw new Error(`hot rows: ${map.length} values, expected ${rows}x${cols}`);
    let any = false;
    if (this.exports && this.memory) {
      const f32 = new Float32Array(this.memory.buffer);
      f32.set(map, this.at.map / 4);
      f32.fill(limit, this.at.limit / 4, this.at.limit / 4 + 4);
      this.exports.hotRows(this.at.map, rows, cols, this.at.limit, this.at.out);
      const out = new Int32Array(this.memory.buffer, this.at.out, rows);
      for (let y = 0; y < rows; y++) any = (flags[y] = out[y]) === 1 || any;
      return any;
    }
    for (let y = 0, i = 0; y < rows; y++) {
      let hot = 0;
      for (let x = 0; x < cols; x++, i++) if (!(map[i] < limit)) hot = 1;
      flags[y] = hot;
      if (hot) any = true;
    }
    return any;
  }
}
