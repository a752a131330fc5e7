// A minimal WebAssembly encoder: just the instructions our resampling kernels use, and a module
// builder (functions importing one memory). The kernels are generated at run time for each frame
// geometry (tap counts unrolled), so they are assembled here rather than compiled ahead of time;
// this also keeps the repository free of binary blobs and the build free of a wasm toolchain.
// Opcode numbers are from the WebAssembly core spec (SIMD: 0xfd prefix + LEB128 sub-opcode).

export type Code = number[];

/** The part of the WebAssembly JS API we use (Node has it; this project's TS lib settings omit its types). */
export interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (
    module: WasmModule,
    imports: Record<string, Record<string, unknown>>,
  ) => { exports: unknown };
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
}
export type WasmModule = { readonly __wasmModule?: never };
export interface WasmMemory {
  /** A SharedArrayBuffer for shared memories. */
  readonly buffer: ArrayBuffer;
}
export const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export const ValType = { I32: 0x7f, F32: 0x7d, V128: 0x7b } as const;
export type ValType = (typeof ValType)[keyof typeof ValType];

function uleb(v: number): Code {
  const out: Code = [];
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
}

function sleb(v: number): Code {
  const out: Code = [];
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && !(b & 0x40)) || (v === -1 && b & 0x40)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const simd = (op: number): Code => [0xfd, ...uleb(op)];
/** memarg: alignment exponent, then the constant offset. */
const memarg = (align: number, offset: number): Code => [...uleb(align), ...uleb(offset)];

/** Instructions; each returns its encoding. */
export const op = {
  localGet: (i: number): Code => [0x20, ...uleb(i)],
  localSet: (i: number): Code => [0x21, ...uleb(i)],
  localTee: (i: number): Code => [0x22, ...uleb(i)],
  i32Const: (v: number): Code => [0x41, ...sleb(v)],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  i32LtU: [0x49],
  i32Eqz: [0x45],
  i32Load: (offset = 0): Code => [0x28, ...memarg(2, offset)],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (depth: number): Code => [0x0c, ...uleb(depth)],
  brIf: (depth: number): Code => [0x0d, ...uleb(depth)],

  v128Load: (offset = 0): Code => [...simd(0x00), ...memarg(0, offset)],
  v128Store: (offset = 0): Code => [...simd(0x0b), ...memarg(0, offset)],
  v128Const: (bytes: readonly number[]): Code => {
    if (bytes.length !== 16) throw new Error(`v128.const needs 16 bytes, got ${bytes.length}`);
    return [...simd(0x0c), ...bytes];
  },
  /** Stores byte lane `lane` of the vector at address + offset. */
  v128Store8Lane: (offset: number, lane: number): Code => [...simd(0x58), ...memarg(0, offset), lane],
  /** Stores 64-bit lane `lane` of the vector at address + offset. */
  v128Store64Lane: (offset: number, lane: number): Code => [...simd(0x5b), ...memarg(0, offset), lane],
  /** Loads 8 bytes into the low half, zeroing the high half. */
  v128Load64Zero: (offset = 0): Code => [...simd(0x5d), ...memarg(0, offset)],
  i8x16Swizzle: simd(0x0e),
  i32x4Splat: simd(0x11),
  f32x4Splat: simd(0x13),
  i32x4DotI16x8S: simd(0xba),
  i32x4Add: simd(0xae),
  i32x4Mul: simd(0xb5),
  i32x4Shl: simd(0xab),
  i32x4ShrS: simd(0xac),
  i32x4MinS: simd(0xb6),
  i32x4MaxS: simd(0xb8),
  i16x8ExtendLowI8x16U: simd(0x89),
  i16x8ExtendHighI8x16U: simd(0x8a),
  i32x4ExtendLowI16x8U: simd(0xa9),
  i32x4ExtendHighI16x8U: simd(0xaa),
  f32x4ConvertI32x4S: simd(0xfa),
  f32x4Sub: simd(0xe5),
  f32x4Lt: simd(0x43),
  v128And: simd(0x4e),
  i32x4AllTrue: simd(0xa3),
  i32Store: (offset = 0): Code => [0x36, ...memarg(2, offset)],
  f32x4Div: simd(0xe7),
  f64x2Add: simd(0xf0),
  f64x2Mul: simd(0xf2),
  f64x2PromoteLowF32x4: simd(0x5f),
  f32x4DemoteF64x2Zero: simd(0x5e),
};

/** A v128 constant of four equal i32 lanes. */
export function i32x4Bytes(v: number): number[] {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < 4; i++) dv.setInt32(i * 4, v, true);
  return Array.from(b);
}

export interface WasmFunction {
  name: string;
  params: ValType[];
  /** Declared locals, numbered after the params. */
  locals: ValType[];
  body: (Code | readonly number[])[];
}

const vec = (items: Code[]): Code => [...uleb(items.length), ...items.flat()];
const name = (s: string): Code => {
  const bytes = Array.from(new TextEncoder().encode(s));
  return [...uleb(bytes.length), ...bytes];
};
const section = (id: number, bytes: Code): Code => [id, ...uleb(bytes.length), ...bytes];

/** A module whose functions (no results) are all exported and share the imported env.memory. */
export function buildModule(functions: WasmFunction[], sharedPages?: number): Uint8Array {
  const types = functions.map((f) => [0x60, ...vec(f.params.map((t) => [t])), 0x00]);
  // limits: 0x00 min (plain memory), or 0x03 min max shared (threads)
  const limits =
    sharedPages === undefined ? [0x00, 0x00] : [0x03, ...uleb(sharedPages), ...uleb(sharedPages)];
  const memoryImport = [...name('env'), ...name('memory'), 0x02, ...limits];
  const bodies = functions.map((f) => {
    const code = [...vec(f.locals.map((t) => [1, t])), ...f.body.flat(), 0x0b];
    return [...uleb(code.length), ...code];
  });
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(types)),
    ...section(2, vec([memoryImport])),
    ...section(3, vec(functions.map((_, i) => uleb(i)))),
    ...section(7, vec(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(bodies)),
  ]);
}

let simdSupport: boolean | undefined;

/** Whether this runtime compiles WebAssembly SIMD (Node >= 16.4 does). */
export function hasWasmSimd(): boolean {
  if (simdSupport === undefined) {
    try {
      const probe = {
        name: 'probe',
        params: [],
        locals: [],
        body: [op.v128Const(new Array<number>(16).fill(0)), [0x1a]],
      };
      new wasm.Module(buildModule([probe]));
      simdSupport = true;
    } catch {
      simdSupport = false;
    }
  }
  return simdSupport;
}
