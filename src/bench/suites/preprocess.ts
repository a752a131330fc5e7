// Camera-frame preprocessing against the official torchvision/PIL transform, 1920x1080 -> 518 and
// -> 336, measured in the same run. Calls alternate: one torchvision call (in a kept python3), then
// one of each of ours, round after round, so that on a shared machine both sides see the same load;
// each of ours reports the ratio of the medians (speedup), of the median CPU times (cpuSpeedup) and
// the median of the per-round ratios (pairedSpeedup).
import { summarize, type Benchmark, type BenchResult } from '../harness.js';
import { loadPreprocessCpuBinding } from '../../preprocess/native-kernel.js';
import { Preprocessor, type PreprocessKernelName } from '../../preprocess/preprocess.js';
import { loadOpenCV } from '../../util/opencv.js';
import { median, PythonTimer, round, type Sample } from './python-timer.js';

const ROUNDS = 60;
const WARMUP = 3;

// The same deterministic noise frame on both sides, so neither gets an easier image.
const PY_SETUP = `
import sys, numpy as np
from PIL import Image
from torchvision import transforms
S = int(sys.argv[1])
rng = np.random.default_rng(0)
img = Image.fromarray(rng.integers(0, 256, (1080, 1920, 3), dtype=np.uint8), 'RGB')
t = transforms.Compose([
    transforms.Resize((S, S), interpolation=transforms.InterpolationMode.BICUBIC),
    transforms.CenterCrop(S),
    lambda im: im.convert('RGB'),
    transforms.ToTensor(),
    transforms.Normalize((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)),
])
def call(): t(img)
for _ in range(2): call()
`;

function noiseFrame(width: number, height: number): Buffer {
  const buf = Buffer.alloc(width * height * 3);
  let s = 12345;
  for (let i = 0; i < buf.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    buf[i] = s >>> 24;
  }
  return buf;
}

interface Contender {
  name: string;
  threads: number;
  kernel?: PreprocessKernelName;
}

function timeCpu(fn: () => void): Sample {
  const c = process.cpuUsage();
  const t0 = performance.now();
  fn();
  const wall = performance.now() - t0;
  const d = process.cpuUsage(c);
  return { wall, cpu: (d.user + d.system) / 1000 };
}

function kernelName(p: Preprocessor): string {
  return p.kernel === 'native' ? `native ${loadPreprocessCpuBinding().kernel}` : p.kernel;
}

/** torchvision/PIL at S and each contender, alternating call by call. */
async function alternating(size: number, official: string, contenders: Contender[]): Promise<BenchResult[]> {
  const cv = loadOpenCV();
  const frame = new cv.Mat(noiseFrame(1920, 1080), 1080, 1920, cv.CV_8UC3);
  const timer = await PythonTimer.start(PY_SETUP, [String(size)]);
  const ours = contenders.map((c) => ({
    ...c,
    p: new Preprocessor({ size, threads: c.threads, kernel: c.kernel }),
    samples: [] as Sample[],
  }));
  const base: Sample[] = [];
  try {
    const out = new Float32Array(3 * size * size);
    for (let round = 0; round < WARMUP + ROUNDS; round++) {
      const b = await timer.time();
      if (round >= WARMUP) base.push(b);
      for (const o of ours) {
        const s = timeCpu(() => o.p.frameInto(frame, out, 0));
        if (round >= WARMUP) o.samples.push(s);
      }
    }
  } finally {
    timer.close();
    for (const o of ours) o.p.close();
  }
  const baseWall = median(base.map((s) => s.wall));
  const baseCpu = median(base.map((s) => s.cpu));
  const results: BenchResult[] = [
    summarize(
      official,
      'ms',
      base.map((s) => s.wall),
      { cpuMsMedian: round(baseCpu) },
    ),
  ];
  for (const o of ours) {
    const cpu = median(o.samples.map((s) => s.cpu));
    const r = summarize(
      o.name,
      'ms',
      o.samples.map((s) => s.wall),
      {
        cpuMsMedian: round(cpu),
        threads: o.threads,
        kernel: kernelName(o.p),
        baseline: official,
      },
    );
    results.push({
      ...r,
      speedup: round(baseWall / r.median),
      cpuSpeedup: round(baseCpu / cpu),
      pairedSpeedup: round(median(o.samples.map((s, i) => base[i].wall / s.wall))),
    });
  }
  return results;
}

export const benchmarks: Benchmark[] = [
  {
    name: 'preprocess.ours_1080p',
    description:
      'ms per 1920x1080 BGR Mat -> float32 [3,518,518], identical to torchvision/PIL: preprocess.official_1080p (torchvision Resize(518, BICUBIC)+CenterCrop+ToTensor+Normalize on a PIL image, python3), ours on one thread, .threads2 (output rows split over two threads) and .wasm (the WebAssembly SIMD fallback), alternating call by call',
    run: () =>
      alternating(518, 'preprocess.official_1080p', [
        { name: 'preprocess.ours_1080p', threads: 1 },
        { name: 'preprocess.ours_1080p.threads2', threads: 2 },
        { name: 'preprocess.ours_1080p.wasm', threads: 1, kernel: 'simd' },
      ]),
  },
  {
    name: 'preprocess.ours_1080p_336',
    description:
      'as preprocess.ours_1080p at 336 (ViT-L/14@336): preprocess.official_1080p_336, preprocess.ours_1080p_336 and .threads2',
    run: () =>
      alternating(336, 'preprocess.official_1080p_336', [
        { name: 'preprocess.ours_1080p_336', threads: 1 },
        { name: 'preprocess.ours_1080p_336.threads2', threads: 2 },
      ]),
  },
];
