// The GPU preprocessing kernel's arithmetic (native/node-tensorrt/src/preprocess/pp_kernels.cuh), in
// its host build (addon.preprocess.host), against the CPU path (src/preprocess: the PIL-exact
// TypeScript/WebAssembly preprocessing): the same float32 bits for the fixture images and for random
// frames of odd sizes, ROIs, rotations, grey and RGB frames, padded rows and mixed batches. On a
// machine with a GPU, scripts/gpu-check.sh compares the kernel itself with this host build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadNodeTensorrt, type NodeTensorrtAddon } from '../../src/engines/tensorrt.js';
import { DeviceFramePreparer, type PreprocessBinding } from '../../src/preprocess/device.js';
import { CLIP_MEAN, CLIP_STD } from '../../src/preprocess/normalize.js';
import { Preprocessor } from '../../src/preprocess/preprocess.js';
import type { Rect, Rotation } from '../../src/geometry/map-to-frame.js';
import type { DeviceFrame } from '../../src/preprocess/tensor.js';
import { loadOpenCV } from '../../src/util/opencv.js';
import { FIXTURE } from '../helpers/fixtures.js';

const cv = loadOpenCV();
const hasGpu = existsSync('/dev/nvidia0') || existsSync('/dev/nvhost-ctrl-gpu');
type Mat = InstanceType<typeof cv.Mat>;

function addon(): NodeTensorrtAddon & { preprocess: PreprocessBinding } {
  const load = loadNodeTensorrt();
  assert.ok(
    load.ok,
    `node-tensorrt must be built (native/node-tensorrt/build.sh): ${load.ok ? '' : load.reason}`,
  );
  assert.ok(load.addon.preprocess, 'node-tensorrt lacks exports.preprocess: rebuild it');
  return load.addon as NodeTensorrtAddon & { preprocess: PreprocessBinding };
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s / 2 ** 32;
  };
}

function noiseMat(width: number, height: number, channels: 1 | 3, seed: number): Mat {
  const r = rng(seed);
  const buf = Buffer.alloc(width * height * channels);
  // smooth-ish noise: neighbours correlate, so a shifted or mirrored read changes the result
  for (let i = 0; i < buf.length; i++) buf[i] = (Math.floor(r() * 64) + ((i * 7) % 192)) & 255;
  return new cv.Mat(buf, height, width, channels === 3 ? cv.CV_8UC3 : cv.CV_8UC1);
}

/** Bits that differ between two float32 arrays (Object.is: -0 and NaN count). */
function differing(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) n++;
  return n;
}

function hostOf(a: { preprocess: PreprocessBinding }, frames: DeviceFrame[], size: number): Float32Array {
  const out = a.preprocess.host(frames, { size, mean: CLIP_MEAN, std: CLIP_STD });
  assert.ok(out instanceof Float32Array);
  return out;
}

test('fixture images: the kernel arithmetic equals the CPU path bit for bit (sizes, ROIs, rotations)', () => {
  const a = addon();
  for (const name of ['brushed_metal_dent_300x200.png', 'pcb_pattern_512x384.png']) {
    const mat = cv.imread(join(FIXTURE, 'images', name));
    assert.ok(!mat.empty, `${name} must load`);
    for (const size of [518, 224, 77]) {
      const cpu = new Preprocessor({ size });
      const gpu = new DeviceFramePreparer(size);
      const views: { rotate?: Rotation; roi?: Rect }[] = [
        {},
        { rotate: 90 },
        { rotate: 180, roi: { x: 13, y: 7, width: 151, height: 97 } },
        { rotate: 270, roi: { x: 0, y: 31, width: mat.rows, height: 101 } },
      ];
      for (const view of views) {
        const want = cpu.frame(mat, view).data;
        const got = hostOf(a, [gpu.tensor(mat, view).frame!], size);
        assert.equal(differing(got, want), 0, `${name} -> ${size} ${JSON.stringify(view)}`);
      }
    }
  }
});

test('random frames of odd sizes, ROIs and rotations, grey and colour, one batch: identical bits', () => {
  const a = addon();
  const r = rng(2024);
  const size = 61;
  const cpu = new Preprocessor({ size });
  const gpu = new DeviceFramePreparer(size);
  const frames: DeviceFrame[] = [];
  const wants: Float32Array[] = [];
  for (let i = 0; i < 24; i++) {
    const width = 1 + Math.floor(r() * 257);
    const height = 1 + Math.floor(r() * 181);
    const channels = i % 5 === 4 ? 1 : 3;
    const mat = noiseMat(width, height, channels, 77 + i);
    const rotate = ([0, 90, 180, 270] as Rotation[])[i % 4];
    const upW = rotate % 180 ? height : width;
    const upH = rotate % 180 ? width : height;
    let roi: Rect | undefined;
    if (i % 3 !== 0) {
      const w = 1 + Math.floor(r() * upW);
      const h = 1 + Math.floor(r() * upH);
      roi = { x: Math.floor(r() * (upW - w + 1)), y: Math.floor(r() * (upH - h + 1)), width: w, height: h };
    }
    const view = { rotate, roi };
    wants.push(cpu.frame(mat, view).data);
    const frame = gpu.tensor(mat, view).frame!;
    frames.push(frame);
    // alone
    assert.equal(
      differing(hostOf(a, [frame], size), wants[i]),
      0,
      `frame ${i}: ${width}x${height}x${channels} ${JSON.stringify(view)}`,
    );
  }
  // all at once: each image of the batch as alone
  const batch = hostOf(a, frames, size);
  const per = 3 * size * size;
  wants.forEach((w, i) =>
    assert.equal(differing(batch.subarray(i * per, (i + 1) * per), w), 0, `batch image ${i}`),
  );
});

test('RGB bytes with padded rows, and sizes that keep an axis (a skipped PIL pass)', () => {
  const a = addon();
  const r = rng(5);
  for (const [width, height, size] of [
    [64, 40, 64],
    [33, 64, 64],
    [64, 64, 64],
    [7, 3, 9],
  ]) {
    const data = new Uint8Array(width * height * 3).map(() => Math.floor(r() * 256));
    const want = new Preprocessor({ size, kernel: 'reference' }).rgb(data, width, height).data;
    // the same rows, 5 bytes of padding after each
    const stride = width * 3 + 5;
    const padded = new Uint8Array(stride * height).fill(255);
    for (let y = 0; y < height; y++)
      padded.set(data.subarray(y * width * 3, (y + 1) * width * 3), y * stride);
    for (const frame of [
      { data, width, height, bgr: false },
      { data: padded, width, height, stride, bgr: false },
    ]) {
      assert.equal(
        differing(hostOf(a, [frame], size), want),
        0,
        `${width}x${height} -> ${size}, stride ${frame.stride}`,
      );
    }
  }
});

test('float16 output is the float32 result rounded to nearest even', () => {
  const a = addon();
  const mat = noiseMat(90, 50, 3, 9);
  const frame = new DeviceFramePreparer(32).tensor(mat, { rotate: 90 }).frame!;
  const f32 = hostOf(a, [frame], 32);
  const f16 = a.preprocess.host([frame], { size: 32, mean: CLIP_MEAN, std: CLIP_STD, half: true });
  assert.ok(f16 instanceof Uint16Array);
  assert.deepEqual(Array.from(f16), Array.from(a.float32ToFloat16(f32)));
});

test('bad frames and options are refused, naming the frame and the problem', () => {
  const { preprocess } = addon();
  const opts = { size: 16, mean: CLIP_MEAN, std: CLIP_STD };
  const good = { data: new Uint8Array(8 * 6 * 3), width: 8, height: 6 };
  const cases: [unknown[], object, RegExp][] = [
    [
      [good, { ...good, roi: { x: 4, y: 0, width: 5, height: 6 } }],
      opts,
      /frame 1: ROI 4,0 5x6 lies outside the 8x6/,
    ],
    [
      [{ ...good, rotate: 90, roi: { x: 0, y: 0, width: 8, height: 6 } }],
      opts,
      /frame 0: ROI .* outside the 6x8 upright/,
    ],
    [[{ ...good, data: new Uint8Array(10) }], opts, /frame 0: 10 bytes cannot hold a 8x6x3 image/],
    [[{ ...good, channels: 2 }], opts, /frame 0: must have 1 \(grey\) or 3 channels, got 2/],
    [[{ ...good, rotate: 45 }], opts, /frame 0: rotate must be 0, 90, 180 or 270, got 45/],
    [[{ ...good, stride: 10 }], opts, /frame 0: stride 10 is shorter than a row of 24 bytes/],
    [[{ ...good, data: [1, 2, 3] }], opts, /frame 0: data must be a Uint8Array/],
    [[good], { ...opts, std: [1, 0, 1] }, /std\[1\] finite and non-zero/],
    [[good], { ...opts, size: 0 }, /size must be an integer in 1\.\.8192/],
    [[], opts, /no frames/],
  ];
  for (const [frames, o, re] of cases) {
    assert.throws(() => preprocess.host(frames as DeviceFrame[], o as typeof opts), re, re.source);
  }
});

test(
  'without a GPU, the kernel on the device says why instead of computing anything',
  { skip: hasGpu ? 'this machine has a GPU: scripts/gpu-check.sh compares the kernel there' : false },
  async () => {
    const { preprocess } = addon();
    const frame = { data: new Uint8Array(4 * 4 * 3), width: 4, height: 4 };
    // this machine has no GPU (or a CPU-only build): the promise rejects with the CUDA or build reason
    await assert.rejects(
      preprocess.device([frame], { size: 8, mean: CLIP_MEAN, std: CLIP_STD }),
      /CUDA|cuda|without CUDA|driver/,
    );
  },
);
