// A folder as a POSIX ustar archive, streamed (regular files and folders only): enough for the
// dashboard to hand over a review export without an archive library. Names up to 255 bytes
// (split into ustar's prefix and name fields); anything longer is refused with its name.
import { createReadStream, lstatSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const BLOCK = 512;

export class TarError extends Error {
  override name = 'TarError';
}

/** The archive's bytes: every folder and regular file under `dir`, paths relative to it. */
export async function* tarFolder(dir: string): AsyncGenerator<Buffer> {
  for (const path of walk(dir)) {
    const st = lstatSync(path);
    const name = relative(dir, path).split(sep).join('/') + (st.isDirectory() ? '/' : '');
    const size = st.isFile() ? st.size : 0;
    yield header(name, { size, dir: st.isDirectory(), mtimeS: Math.floor(st.mtimeMs / 1000) });
    if (!st.isFile()) continue;
    let sent = 0;
    for await (const chunk of createReadStream(path)) {
      const b = chunk as Buffer;
      // a file that grows while it is read must not break the archive's framing
      const part = b.subarray(0, Math.max(0, size - sent));
      sent += part.length;
      if (part.length) yield part;
    }
    if (sent < size) yield Buffer.alloc(size - sent);
    if (size % BLOCK) yield Buffer.alloc(BLOCK - (size % BLOCK));
  }
  yield Buffer.alloc(BLOCK * 2);
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      yield path;
      yield* walk(path);
    } else if (entry.isFile()) yield path;
  }
}

export function header(name: string, o: { size: number; dir: boolean; mtimeS: number }): Buffer {
  const h = Buffer.alloc(BLOCK);
  const bytes = Buffer.from(name, 'utf8');
  let prefix = Buffer.alloc(0);
  let base = bytes;
  if (bytes.length > 100) {
    // split at a "/" so that the prefix fits 155 bytes and the rest 100
    const cut = name.lastIndexOf('/', name.length - (o.dir ? 2 : 1));
    prefix = Buffer.from(name.slice(0, cut), 'utf8');
    base = Buffer.from(name.slice(cut + 1), 'utf8');
    if (cut < 0 || prefix.length > 155 || base.length > 100)
      throw new TarError(`path too long for tar: ${name}`);
  }
  base.copy(h, 0);
  octal(h, 100, 8, o.dir ? 0o755 : 0o644);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, o.size);
  octal(h, 136, 12, o.mtimeS);
  h.write('        ', 148, 'ascii');
  h.write(o.dir ? '5' : '0', 156, 'ascii');
  h.write('ustar\u000000', 257, 'binary');
  prefix.copy(h, 345);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\u0000 ', 148, 'binary');
  return h;
}

function octal(h: Buffer, at: number, len: number, v: number): void {
  h.write(v.toString(8).padStart(len - 1, '0') + '\u0000', at, 'ascii');
}
