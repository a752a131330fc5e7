// Fuzzing image files as the folder source reads them (OpenCV decoding, then preprocessing): small
// valid PNG, JPEG, BMP and TIFF files truncated, with bytes flipped or spliced in, under the wrong
// extension, random bytes, and decompression bombs (a tiny PNG that claims 12000 x 12000 pixels).
// Every file gives a frame that preprocesses, or is skipped with a reason: never a crash, and a
// bomb is refused before it is decoded (the child that reads it stays small).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { FolderSource } from '../../src/sources/folder.js';
import { Preprocessor } from '../../src/preprocess/preprocess.js';
import { loadOpenCV, MAX_IMAGE_PIXELS } from '../../src/util/opencv.js';
import { ROOT } from '../helpers/fixtures.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1500);
process.env.OPENCV_LOG_LEVEL ??= 'ERROR'; // OpenCV's warnings for each broken file are expected here
const cv = loadOpenCV();

function seeds(): { ext: string; bytes: Buffer }[] {
  const buf = Buffer.alloc(40 * 30 * 3);
  for (let i = 0; i < buf.length; i++) buf[i] = (i * 37) % 251;
  const mat = new cv.Mat(buf, 30, 40, cv.CV_8UC3);
  return ['.png', '.jpg', '.bmp', '.tiff'].map((ext) => ({ ext, bytes: cv.imencode(ext, mat) }));
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(b: Buffer): number {
  let c = 0xffffffff;
  for (const x of b) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
/** A valid greyscale PNG of w x h black pixels: w*h bytes decoded from a file of a few hundred KB. */
function pngBomb(w: number, h: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth; colour type 0 (grey)
  const raw = deflateSync(Buffer.alloc((w + 1) * h), { level: 9 });
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', raw),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const SEEDS = seeds();
const file = fc.oneof(
  fc.record({ seed: fc.constantFrom(...SEEDS), cut: fc.nat() }).map(({ seed, cut }) => ({
    ext: seed.ext,
    bytes: seed.bytes.subarray(0, cut % (seed.bytes.length + 1)),
  })),
  fc
    .record({
      seed: fc.constantFrom(...SEEDS),
      flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
    })
    .map(({ seed, flips }) => {
      const b = Buffer.from(seed.bytes);
      for (const [at, v] of flips) b[at % b.length] = v;
      return { ext: seed.ext, bytes: b };
    }),
  fc
    .record({ seed: fc.constantFrom(...SEEDS), at: fc.nat(), junk: fc.uint8Array({ maxLength: 64 }) })
    .map(({ seed, at, junk }) => {
      const i = at % seed.bytes.length;
      return {
        ext: seed.ext,
        bytes: Buffer.concat([seed.bytes.subarray(0, i), Buffer.from(junk), seed.bytes.subarray(i)]),
      };
    }),
  fc
    .record({
      seed: fc.constantFrom(...SEEDS),
      ext: fc.constantFrom('.png', '.jpg', '.bmp', '.tiff', '.txt'),
    })
    .map(({ seed, ext }) => ({ ext, bytes: seed.bytes })),
  fc.uint8Array({ maxLength: 256 }).map((b) => ({ ext: '.png', bytes: Buffer.from(b) })),
);

test('image files: mutated, truncated and mislabelled files give a frame or a reason, never a crash', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fz-img-'));
  const pre = new Preprocessor({ size: 28 });
  let frames = 0;
  let n = 0;
  try {
    await fc.assert(
      fc.asyncProperty(file, async ({ ext, bytes }) => {
        const folder = join(dir, String(n++));
        mkdirSync(folder);
        writeFileSync(join(folder, `img${ext}`), bytes);
        const unreadable: string[] = [];
        const src = new FolderSource({
          path: folder,
          pattern: '*',
          loop: false,
          onUnreadable: (_f, why) => unreadable.push(why),
        });
        await src.open();
        const frame = await src.read();
        await src.close();
        if (frame) {
          frames++;
          assert.ok(frame.image.cols > 0 && frame.image.rows > 0);
          const t = pre.frame(frame.image);
          assert.equal(t.data.length, 3 * 28 * 28);
          assert.ok(t.data.every(Number.isFinite), 'a decoded frame preprocesses to finite values');
        } else {
          assert.equal(unreadable.length, 1, 'a file that gave no frame is reported');
          assert.ok(unreadable[0].length > 0);
        }
        rmSync(folder, { recursive: true, force: true });
      }),
      { numRuns: RUNS },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(frames > RUNS / 20, `some mutated files still decode (${frames} of ${RUNS})`);
});

test('a decompression bomb is refused before it is decoded, naming the limit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fz-bomb-'));
  try {
    const side = Math.ceil(Math.sqrt(MAX_IMAGE_PIXELS)) + 512; // just over the bound
    const bomb = pngBomb(side, side);
    writeFileSync(join(dir, 'bomb.png'), bomb);
    assert.ok(bomb.length < 1_000_000, `a small file (${bomb.length} bytes) for ${side} x ${side} pixels`);
    // in a child, so its peak memory is its own
    const script = `
      const { FolderSource } = await import(${JSON.stringify(new URL(`file://${join(ROOT, 'dist/src/sources/folder.js')}`).href)});
      const why = [];
      const src = new FolderSource({ path: ${JSON.stringify(dir)}, pattern: '*.png', loop: false, onUnreadable: (_f, w) => why.push(w) });
      await src.open();
      const frame = await src.read();
      console.log(JSON.stringify({ frame: frame !== null, why, maxRssMB: process.resourceUsage().maxRSS / 1024 }));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      frame: boolean;
      why: string[];
      maxRssMB: number;
    };
    assert.equal(out.frame, false);
    assert.match(out.why[0] ?? '', /larger than \d+ pixels.*OPENCV_IO_MAX_IMAGE_PIXELS/);
    // decoded, it would take side*side*3 bytes (about 400 MB): the child never came near that
    assert.ok(out.maxRssMB < (side * side * 3) / 2 ** 20 / 2, `peak ${out.maxRssMB} MB`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
