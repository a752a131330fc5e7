// The Gram matrix with WebAssembly SIMD (f64x2), in exactly the order of gram.ts: the float32 rows
// are widened to float64 (exact) as they are copied into the module's memory; lanes 0/1 of one
// accumulator hold s_0/s_1, of a second s_2/s_3 (e mod 4); every multiply and add rounds once (WASM
// SIMD has no fused multiply-add) and G = (s_0 + s_1) + (s_2 + s_3). So G is bit-identical to the
// scalar loop (tested), about 7x faster. V8 does not vectorise JavaScript and no npm package computes
// a float64-accumulated Gram of float32 rows; the kernel is small enough to assemble here from
// opcodes, which needs no compiler toolchain at build time.
import { gramFloat64 } from './gram.js';

// opcodes (WebAssembly core 2.0 + fixed-width SIMD)
const BLOCK = 0x02;
const LOOP = 0x03;
const END = 0x0b;
const BR = 0x0c;
const BR_IF = 0x0d;
const VOID = 0x40;
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const LOCAL_TEE = 0x22;
const I32_CONST = 0x41;
const I32_GE_S = 0x4e;
const I32_GT_S = 0x4a;
const I32_ADD = 0x6a;
const I32_MUL = 0x6c;
const I32_SHL = 0x74;
const F64_ADD = 0xa0;
const F64_STORE = 0x39;
const SIMD = 0xfd;
const V128_LOAD = 0x00;
const V128_CONST = 0x0c;
const F64X2_EXTRACT_LANE = 0x21;
const F64X2_ADD = 0xf0;
const F64X2_MUL = 0xf2;
const I32 = 0x7f;
const V128 = 0x7b;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const simd = (op: number) => [SIMD, ...uleb(op)];
const get = (l: number) => [LOCAL_GET, ...uleb(l)];
const set = (l: number) => [LOCAL_SET, ...uleb(l)];
const tee = (l: number) => [LOCAL_TEE, ...uleb(l)];
const i32 = (v: number) => [I32_CONST, ...sleb(v)];
const loadV128 = (offset: number) => [...simd(V128_LOAD), 3, ...uleb(offset)]; // align 2^3
const zeroV128 = [...simd(V128_CONST), ...new Array(16).fill(0)];

// Blocking: ROW_BLOCK rows i x COL_BLOCK columns j share their loads; pairs with j < i inside a
// block are computed too (harmless: the order of one entry's additions is the same either way).
const ROW_BLOCK = 2;
const COL_BLOCK = 2;

// locals: params x, g, rows, n; i32 i, j, off, bytes, v, pi[ROW_BLOCK], p[COL_BLOCK];
// v128 acc a[r][c] (lanes s0, s1) and b[r][c] (lanes s2, s3), xlo[r], xhi[r], t0, t1
const [X, G, ROWS, N] = [0, 1, 2, 3];
const [I, J, OFF, BYTES, V] = [4, 5, 6, 7, 8];
const PI = Array.from({ length: ROW_BLOCK }, (_, r) => 9 + r);
const P = Array.from({ length: COL_BLOCK }, (_, c) => 9 + ROW_BLOCK + c);
const I32_LOCALS = 5 + ROW_BLOCK + COL_BLOCK;
let nextV128 = 4 + I32_LOCALS;
const grid = () =>
  Array.from({ length: ROW_BLOCK }, () => Array.from({ length: COL_BLOCK }, () => nextV128++));
const A = grid();
const B = grid();
const XLO = Array.from({ length: ROW_BLOCK }, () => nextV128++);
const XHI = Array.from({ length: ROW_BLOCK }, () => nextV128++);
const T0 = nextV128++;
const T1 = nextV128++;
const V128_LOCALS = nextV128 - 4 - I32_LOCALS;

/** G[row][col] = G[col][row] = (a.0 + a.1) + (b.0 + b.1); row, col are i32 expressions. */
function storeEntry(row: number[], col: number[], a: number, b: number): number[] {
  const lanes = (v: number) => [
    ...get(v),
    ...simd(F64X2_EXTRACT_LANE),
    0,
    ...get(v),
    ...simd(F64X2_EXTRACT_LANE),
    1,
    F64_ADD,
  ];
  const value = [...lanes(a), ...lanes(b), F64_ADD];
  const addr = (r: number[], c: number[]) => [
    ...get(G),
    ...r,
    ...get(ROWS),
    I32_MUL,
    ...c,
    I32_ADD,
    ...i32(3),
    I32_SHL,
    I32_ADD,
  ];
  return [...addr(row, col), ...value, F64_STORE, 3, 0, ...addr(col, row), ...value, F64_STORE, 3, 0];
}

/** rs rows from i x cs columns from j: zero, loop over e (4 values = 32 bytes a step), store; j += cs. */
function block(rs: number, cs: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rs; r++) {
    for (let c = 0; c < cs; c++) out.push(...zeroV128, ...set(A[r][c]), ...zeroV128, ...set(B[r][c]));
  }
  for (let c = 0; c < cs; c++) {
    out.push(...get(X), ...get(J), ...i32(c), I32_ADD, ...get(BYTES), I32_MUL, I32_ADD, ...set(P[c]));
  }
  out.push(...i32(0), ...set(OFF));
  out.push(BLOCK, VOID, LOOP, VOID);
  out.push(...get(OFF), ...get(BYTES), I32_GE_S, BR_IF, 1);
  for (let r = 0; r < rs; r++) {
    out.push(...get(PI[r]), ...get(OFF), I32_ADD, ...tee(V), ...loadV128(0), ...set(XLO[r]));
    out.push(...get(V), ...loadV128(16), ...set(XHI[r]));
  }
  for (let c = 0; c < cs; c++) {
    out.push(
      ...get(P[c]),
      ...get(OFF),
      I32_ADD,
      ...tee(V),
      ...loadV128(0),
      ...set(T0),
      ...get(V),
      ...loadV128(16),
      ...set(T1),
    );
    for (let r = 0; r < rs; r++) {
      out.push(
        ...get(T0),
        ...get(XLO[r]),
        ...simd(F64X2_MUL),
        ...get(A[r][c]),
        ...simd(F64X2_ADD),
        ...set(A[r][c]),
      );
      out.push(
        ...get(T1),
        ...get(XHI[r]),
        ...simd(F64X2_MUL),
        ...get(B[r][c]),
        ...simd(F64X2_ADD),
        ...set(B[r][c]),
      );
    }
  }
  out.push(...get(OFF), ...i32(32), I32_ADD, ...set(OFF), BR, 0, END, END);
  for (let r = 0; r < rs; r++) {
    for (let c = 0; c < cs; c++) {
      out.push(
        ...storeEntry([...get(I), ...i32(r), I32_ADD], [...get(J), ...i32(c), I32_ADD], A[r][c], B[r][c]),
      );
    }
  }
  out.push(...get(J), ...i32(cs), I32_ADD, ...set(J));
  return out;
}

/** while (cond) { body } where cond is "not (expr >= limit)" given as a break test. */
function whileNot(breakIf: number[], body: number[]): number[] {
  return [BLOCK, VOID, LOOP, VOID, ...breakIf, BR_IF, 1, ...body, BR, 0, END, END];
}

/** Rows i..i+rs-1 against columns j = i..rows-1; then i += rs. */
function rowBlock(rs: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rs; r++)
    out.push(...get(X), ...get(I), ...i32(r), I32_ADD, ...get(BYTES), I32_MUL, I32_ADD, ...set(PI[r]));
  out.push(...get(I), ...set(J));
  out.push(
    ...whileNot([...get(J), ...i32(COL_BLOCK), I32_ADD, ...get(ROWS), I32_GT_S], block(rs, COL_BLOCK)),
  );
  out.push(...whileNot([...get(J), ...get(ROWS), I32_GE_S], block(rs, 1)));
  out.push(...get(I), ...i32(rs), I32_ADD, ...set(I));
  return out;
}

function functionBody(): number[] {
  const body: number[] = [];
  body.push(...get(N), ...i32(3), I32_SHL, ...set(BYTES));
  body.push(...i32(0), ...set(I));
  body.push(
    ...whileNot([...get(I), ...i32(ROW_BLOCK), I32_ADD, ...get(ROWS), I32_GT_S], rowBlock(ROW_BLOCK)),
  );
  body.push(...whileNot([...get(I), ...get(ROWS), I32_GE_S], rowBlock(1)));
  body.push(END);
  const locals = [...uleb(2), ...uleb(I32_LOCALS), I32, ...uleb(V128_LOCALS), V128];
  const fn = [...locals, ...body];
  return [...uleb(fn.length), ...fn];
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function moduleBytes(): Uint8Array {
  const name = (s: string) => [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];
  const type = section(1, [1, 0x60, 4, I32, I32, I32, I32, 0]);
  const imports = section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(1)]);
  const funcs = section(3, [1, 0]);
  const exports = section(7, [1, ...name('gram'), 0x00, 0]);
  const code = section(10, [1, ...functionBody()]);
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    1,
    0,
    0,
    0,
    ...type,
    ...imports,
    ...funcs,
    ...exports,
    ...code,
  ]);
}

// The WebAssembly global, typed here: the project's lib (ES2023, no DOM) does not declare it.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Memory: new (desc: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

interface WasmGram {
  memory: WasmMemory;
  gram: (x: number, g: number, rows: number, n: number) => void;
}

let instance: WasmGram | null | undefined;

function load(): WasmGram | null {
  if (instance !== undefined) return instance;
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  try {
    if (!api) throw new Error('no WebAssembly');
    const memory = new api.Memory({ initial: 1 });
    const inst = new api.Instance(new api.Module(moduleBytes()), { env: { memory } });
    instance = { memory, gram: inst.exports.gram as WasmGram['gram'] };
  } catch {
    instance = null; // no WASM SIMD in this runtime: the scalar loop gives the same G
  }
  return instance;
}

/** True when the SIMD kernel loaded (Node >= 16.4 has WASM SIMD). */
export function wasmGramAvailable(): boolean {
  return load() !== null;
}

/**
 * Same contract and bit-identical result as gramFloat64; uses the SIMD kernel when it loaded and n
 * is a multiple of 4 (L*D always is for CLIP widths), else the scalar loop.
 */
export function gramFloat64Fast(
  x: Float32Array,
  xOffset: number,
  rows: number,
  n: number,
  g: Float64Array,
): void {
  const w = load();
  if (!w || n % 4 !== 0) {
    gramFloat64(x, xOffset, rows, n, g);
    return;
  }
  const xBytes = rows * n * 8;
  const gBytes = rows * rows * 8;
  const need = xBytes + gBytes;
  const have = w.memory.buffer.byteLength;
  if (need > have) w.memory.grow(Math.ceil((need - have) / 65536));
  const buf = w.memory.buffer;
  new Float64Array(buf, 0, rows * n).set(x.subarray(xOffset, xOffset + rows * n));
  w.gram(0, xBytes, rows, n);
  g.set(new Float64Array(buf, xBytes, rows * rows));
}
