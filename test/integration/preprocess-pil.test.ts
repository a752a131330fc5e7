// Our preprocessing against the real thing: PIL's bicubic resize and the official torchvision
// transform, run by Debian's python3 during the test on images written here with OpenCV.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Preprocessor } from '../../src/preprocess/preprocess.js';
import { BicubicResizer } from '../../src/preprocess/pil-resample.js';
import type { Rect, Rotation } from '../../src/geometry/map-to-frame.js';
import { loadOpenCV } from '../../src/util/opencv.js';
import { readNpy } from '../../src/util/npy.js';
import { FIXTURE } from '../helpers/fixtures.js';
import { runPython } from '../helpers/python-ref.js';
import { requirePython } from '../helpers/require-tools.js';

const PY_MODULES = ['numpy', 'PIL', 'torch', 'torchvision'];
/** Every implementation is held to the same reference (native: node-tensorrt's, built by setup). */
const KERNELS = ['native', 'simd', 'reference'] as const;
const cv = loadOpenCV();

/** A BGR test card: gradients, hard 0/255 edges (they overshoot and clip), fine stripes and noise. */
function testImage(width: number, height: number, seed: number): Buffer {
  const buf = Buffer.alloc(width * height * 3);
  let s = seed >>> 0 || 1;
  const rnd = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 3;
      const checker = ((x >> 4) + (y >> 4)) & 1 ? 255 : 0;
      const region = (x * 4) / width;
      let b: number, g: number, r: number;
      if (region < 1) [b, g, r] = [checker, 255 - checker, checker];
      else if (region < 2)
        [b, g, r] = [(x * 255) / width, (y * 255) / height, ((x + y) * 127) / (width + height)];
      else if (region < 3) [b, g, r] = [x & 1 ? 255 : 0, y & 1 ? 255 : 0, (x + y) & 2 ? 250 : 5];
      else [b, g, r] = [rnd() * 256, rnd() * 256, rnd() * 256];
      buf[p] = b;
      buf[p + 1] = g;
      buf[p + 2] = r;
    }
  }
  return buf;
}

interface Job {
  png: string;
  out: string;
  size: number;
  mode: 'RGB' | 'L';
  rotate: Rotation;
  roi: Rect | null;
  /** Also run the official torchvision transform into this .npy. */
  torch: string | null;
}

const PIL_SCRIPT = `
import sys, json, numpy as np
from PIL import Image
MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)
transpose = {90: Image.ROTATE_270, 180: Image.ROTATE_180, 270: Image.ROTATE_90}  # PIL rotates counter-clockwise
for j in json.load(open(sys.argv[1])):
    img = Image.open(j['png']).convert(j['mode'])
    if j['rotate']:
        img = img.transpose(transpose[j['rotate']])
    if j['roi']:
        r = j['roi']
        img = img.crop((r['x'], r['y'], r['x'] + r['width'], r['y'] + r['height']))
    S = j['size']
    np.save(j['out'], np.asarray(img.resize((S, S), Image.BICUBIC)))
    if j['torch']:
        from torchvision import transforms
        t = transforms.Compose([
            transforms.Resize((S, S), interpolation=transforms.InterpolationMode.BICUBIC),
            transforms.CenterCrop(S),
            lambda im: im.convert('RGB'),
            transforms.ToTensor(),
            transforms.Normalize(MEAN, STD),
        ])
        np.save(j['torch'], t(img).numpy())
`;

function runJobs(dir: string, jobs: Job[]): void {
  const list = join(dir, 'jobs.json');
  writeFileSync(list, JSON.stringify(jobs));
  runPython(PIL_SCRIPT, [list], 300_000);
}

/** Our resize of a BGR Mat (through the view), as RGB bytes, for comparison with PIL's uint8 output. */
function ourResizeRgb(mat: ReturnType<typeof cv.imread>, size: number): Uint8Array {
  const bytes = mat.getData();
  const r = new BicubicResizer(mat.cols, mat.rows, size, size);
  const bgr = r.resize({ data: bytes, width: mat.cols, height: mat.rows, stride: mat.cols * 3, offset: 0 });
  const rgb = new Uint8Array(bgr.length);
  for (let i = 0; i < bgr.length; i += 3) {
    rgb[i] = bgr[i + 2];
    rgb[i + 1] = bgr[i + 1];
    rgb[i + 2] = bgr[i];
  }
  return rgb;
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'lengths differ');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function countDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

// [width, height, S]: the real 1080p frame, upscaling, the fixture sizes, odd sizes, single-axis
// resizes (one pass skipped) and a heavy shrink.
const SIZES: [number, number, number][] = [
  [1920, 1080, 518],
  [1920, 1080, 336],
  [1920, 1080, 224],
  [300, 200, 518],
  [300, 200, 126],
  [512, 384, 154],
  [1001, 667, 336],
  [17, 9, 33],
  [518, 300, 518],
  [300, 518, 518],
  [640, 480, 7],
  [5, 3, 1],
];

test('bicubic resize equals PIL Image.resize(BICUBIC), and every kernel equals torchvision, bit for bit', (t) => {
  requirePython(PY_MODULES);
  const dir = mkdtempSync(join(tmpdir(), 'pil-'));
  try {
    const jobs: Job[] = SIZES.map(([w, h, s], i) => {
      const png = join(dir, `img${i}.png`);
      cv.imwrite(png, new cv.Mat(testImage(w, h, i + 1), h, w, cv.CV_8UC3));
      const torch = join(dir, `torch${i}.npy`);
      return { png, out: join(dir, `pil${i}.npy`), size: s, mode: 'RGB', rotate: 0, roi: null, torch };
    });
    runJobs(dir, jobs);
    SIZES.forEach(([w, h, s], i) => {
      const mat = cv.imread(jobs[i].png);
      const want = readNpy(jobs[i].out).data as Uint8Array;
      const got = ourResizeRgb(mat, s);
      const diff = maxAbs(got, want);
      t.diagnostic(`${w}x${h} -> ${s}: max |ours - PIL| = ${diff}/255`);
      assert.equal(
        diff,
        0,
        `${w}x${h} -> ${s}: max |ours - PIL| = ${diff}/255, ${countDiff(got, want)} values differ`,
      );
      const official = readNpy(jobs[i].torch!).data as Float32Array;
      for (const kernel of KERNELS) {
        const tensor = new Preprocessor({ size: s, kernel }).frame(mat).data;
        const n = countDiff(tensor, official);
        assert.equal(
          n,
          0,
          `${kernel} ${w}x${h} -> ${s}: max |ours - torchvision| = ${maxAbs(tensor, official)}`,
        );
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('full preprocessing equals the official torchvision transform, with ROI, rotation and grey frames', () => {
  requirePython(PY_MODULES);
  const dir = mkdtempSync(join(tmpdir(), 'pil-'));
  try {
    const png = join(dir, 'frame.png');
    const w = 1920;
    const h = 1080;
    cv.imwrite(png, new cv.Mat(testImage(w, h, 99), h, w, cv.CV_8UC3));
    const grey = join(dir, 'grey.png');
    cv.imwrite(grey, cv.imread(png).cvtColor(cv.COLOR_BGR2GRAY));
    const cases: { size: number; rotate: Rotation; roi: Rect | null; mode: 'RGB' | 'L' }[] = [
      { size: 518, rotate: 0, roi: null, mode: 'RGB' },
      { size: 518, rotate: 0, roi: { x: 301, y: 97, width: 777, height: 555 }, mode: 'RGB' },
      { size: 336, rotate: 0, roi: null, mode: 'RGB' },
      { size: 336, rotate: 0, roi: { x: 1, y: 2, width: 1919, height: 1077 }, mode: 'RGB' },
      { size: 336, rotate: 90, roi: null, mode: 'RGB' },
      { size: 336, rotate: 90, roi: { x: 100, y: 1200, width: 500, height: 333 }, mode: 'RGB' },
      { size: 224, rotate: 180, roi: { x: 0, y: 5, width: 1900, height: 1000 }, mode: 'RGB' },
      { size: 224, rotate: 270, roi: { x: 17, y: 1500, width: 1063, height: 420 }, mode: 'RGB' },
      { size: 224, rotate: 0, roi: null, mode: 'L' },
    ];
    const jobs: Job[] = cases.map((c, i) => ({
      png: c.mode === 'L' ? grey : png,
      out: join(dir, `pil${i}.npy`),
      torch: join(dir, `torch${i}.npy`),
      size: c.size,
      mode: c.mode,
      rotate: c.rotate,
      roi: c.roi,
    }));
    runJobs(dir, jobs);
    const frame = cv.imread(png);
    const greyFrame = cv.imread(grey, cv.IMREAD_GRAYSCALE);
    const rgbBytes = frame.cvtColor(cv.COLOR_BGR2RGB).getData();
    cases.forEach((c, i) => {
      for (const kernel of KERNELS) {
        const p = new Preprocessor({ size: c.size, kernel });
        const view = { rotate: c.rotate, roi: c.roi ?? undefined };
        const want = readNpy(jobs[i].torch!).data as Float32Array;
        const t = p.frame(c.mode === 'L' ? greyFrame : frame, view);
        const label = `${kernel} ${JSON.stringify(c)}`;
        assert.equal(
          countDiff(t.data, want),
          0,
          `${label}: max |ours - torchvision| = ${maxAbs(t.data, want)}`,
        );
        if (c.mode === 'RGB') {
          const fromRgb = p.rgb(rgbBytes, w, h, view);
          assert.equal(countDiff(fromRgb.data, want), 0, `${label} (raw RGB input)`);
        }
        const up = c.rotate === 90 || c.rotate === 270 ? { width: h, height: w } : { width: w, height: h };
        assert.deepEqual(t.source, {
          width: w,
          height: h,
          rotate: c.rotate,
          roi: c.roi ?? { x: 0, y: 0, ...up },
        });
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('preprocessing the fixture PNGs reproduces the official inputs/*.npy', (t) => {
  let checked = 0;
  for (const c of ['tiny_s126', 'tiny_s154']) {
    const size = Number(c.slice('tiny_s'.length));
    for (const f of readdirSync(join(FIXTURE, c, 'inputs'))) {
      const want = readNpy(join(FIXTURE, c, 'inputs', f));
      assert.deepEqual(want.shape, [3, size, size]);
      const image = cv.imread(join(FIXTURE, 'images', f.replace(/\.npy$/, '.png')));
      for (const kernel of KERNELS) {
        const got = new Preprocessor({ size, kernel }).frame(image);
        const err = maxAbs(got.data, want.data as Float32Array);
        t.diagnostic(
          `${kernel} ${c}/${f}: max abs error of the normalised tensor vs the official input: ${err}`,
        );
        assert.equal(err, 0, `${kernel} ${c}/${f}: max abs error of the normalised tensor ${err}`);
        checked++;
      }
    }
  }
  assert.equal(checked, 4 * KERNELS.length);
});
