// Minimal NumPy .npy (format 1.0/2.0, little-endian, C order) reader and writer: the `infer`
// contract and the parity fixtures use .npy. No npm package covers read+write for Node buffers
// without pulling in a numerics stack, and the format is a 10-line header.
import { readFileSync, writeFileSync } from 'node:fs';

export type NpyData =
  Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int16Array | Uint16Array;
export interface NpyArray<T extends NpyData = NpyData> {
  data: T;
  shape: number[];
  dtype: string;
}

const DTYPES: Record<string, { bytes: number; make: (b: ArrayBuffer, o: number, n: number) => NpyData }> = {
  '<f4': { bytes: 4, make: (b, o, n) => new Float32Array(b, o, n) },
  '<f8': { bytes: 8, make: (b, o, n) => new Float64Array(b, o, n) },
  '<i4': { bytes: 4, make: (b, o, n) => new Int32Array(b, o, n) },
  '<i8': { bytes: 8, make: (b, o, n) => new BigInt64Array(b, o, n) },
  '<i2': { bytes: 2, make: (b, o, n) => new Int16Array(b, o, n) },
  '<u2': { bytes: 2, make: (b, o, n) => new Uint16Array(b, o, n) },
  '|u1': { bytes: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
};

export function parseNpy(buf: Buffer, what = 'npy'): NpyArray {
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') {
    throw new Error(`${what}: not a .npy file (magic bytes missing)`);
  }
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined)
    throw new Error(`${what}: unreadable .npy header ${JSON.stringify(header)}`);
  if (fortran) throw new Error(`${what}: Fortran-ordered arrays are not supported`);
  const spec = DTYPES[descr];
  if (!spec)
    throw new Error(`${what}: dtype ${descr} not supported (want one of ${Object.keys(DTYPES).join(', ')})`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLen;
  if (buf.length - offset < count * spec.bytes) {
    throw new Error(
      `${what}: truncated: shape [${shape}] needs ${count * spec.bytes} bytes, file has ${buf.length - offset}`,
    );
  }
  // copy into a fresh, aligned buffer
  const copy = new Uint8Array(count * spec.bytes);
  copy.set(buf.subarray(offset, offset + count * spec.bytes));
  return { data: spec.make(copy.buffer, 0, count), shape, dtype: descr };
}

export function readNpy(path: string): NpyArray {
  return parseNpy(readFileSync(path), path);
}

export function encodeNpy(data: NpyData, shape: number[]): Buffer {
  const descr =
    data instanceof Float32Array
      ? '<f4'
      : data instanceof Float64Array
        ? '<f8'
        : data instanceof Int32Array
          ? '<i4'
          : data instanceof BigInt64Array
            ? '<i8'
            : data instanceof Int16Array
              ? '<i2'
              : data instanceof Uint16Array
                ? '<u2'
                : '|u1';
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new Error(`npy: shape [${shape}] does not match ${data.length} elements`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  return Buffer.concat([
    pre,
    Buffer.from(header, 'latin1'),
    Buffer.from(data.buffer, data.byteOffset, data.byteLength),
  ]);
}

export function writeNpy(path: string, data: NpyData, shape: number[]): void {
  writeFileSync(path, encodeNpy(data, shape));
}
