// Preprocessing and smoothing against the official Python stack, measured in the same run:
// torchvision/PIL for the 1080p frame -> 518 preprocessing, scipy for the sigma-4 gaussian filter.
// The baselines run in Debian's python3 (ADACLIP_PYTHON overrides), timed inside Python so process
// start-up is not counted.
import { spawnSync } from 'node:child_process';
import { measure, summarize, type Benchmark, type BenchResult } from '../harness.js';
import { Preprocessor } from '../../preprocess/preprocess.js';
import { GaussianFilter } from '../../postprocess/gaussian.js';
import { loadOpenCV } from '../../util/opencv.js';

const PYTHON = process.env.ADACLIP_PYTHON ?? '/usr/bin/python3';
const ITERATIONS = 30;

/** Baseline medians of this run, so the ours/official pairs can report their ratio. */
const baselines = new Map<string, number>();

/** Wall-clock samples (ms) and the median CPU time per call (ms, all threads) from a Python timing script. */
function pythonSamples(code: string): { wall: number[]; cpuMedian: number } {
  const res = spawnSync(PYTHON, ['-c', code, String(ITERATIONS)], { encoding: 'utf8', timeout: 600_000 });
  if (res.error) throw new Error(`${PYTHON} failed to start: ${res.error.message}`);
  if (res.status !== 0) throw new Error(`${PYTHON} exited with ${res.status}: ${res.stderr}`);
  const out = JSON.parse(res.stdout.trim().split('\n').pop() ?? '{}') as { wall?: number[]; cpu?: number[] };
  if (!out.wall?.length || !out.cpu?.length) throw new Error(`no samples from ${PYTHON}: ${res.stdout}`);
  return { wall: out.wall, cpuMedian: median(out.cpu) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Times fn like measure(), also recording the CPU time of each call (all threads of this process). */
async function measureWithCpu(fn: () => unknown): Promise<{ wall: number[]; cpuMedian: number }> {
  const cpu: number[] = [];
  const wall = await measure(
    () => {
      const c = process.cpuUsage();
      fn();
      const d = process.cpuUsage(c);
      cpu.push((d.user + d.system) / 1000);
    },
    { iterations: ITERATIONS, warmup: 3 },
  );
  return { wall, cpuMedian: median(cpu.slice(-wall.length)) };
}

const round = (x: number): number => Math.round(x * 100) / 100;

function withRatio(r: BenchResult, baseline: string): BenchResult {
  const base = baselines.get(baseline);
  const baseCpu = baselines.get(`${baseline}#cpu`);
  if (base === undefined) return r;
  const extra: Record<string, unknown> = { baseline, speedup: round(base / r.median) };
  if (baseCpu !== undefined && typeof r.cpuMsMedian === 'number')
    extra.cpuSpeedup = round(baseCpu / r.cpuMsMedian);
  return { ...r, ...extra };
}

function baselineResult(name: string, s: { wall: number[]; cpuMedian: number }): BenchResult {
  const r = summarize(name, 'ms', s.wall, { cpuMsMedian: round(s.cpuMedian) });
  baselines.set(name, r.median);
  baselines.set(`${name}#cpu`, s.cpuMedian);
  return r;
}

// The same deterministic noise frame on both sides, so neither gets an easier image.
const PY_PREPROCESS = `
import sys, time, json, numpy as np
from PIL import Image
from torchvision import transforms
n = int(sys.argv[1])
rng = np.random.default_rng(0)
img = Image.fromarray(rng.integers(0, 256, (1080, 1920, 3), dtype=np.uint8), 'RGB')
t = transforms.Compose([
    transforms.Resize((518, 518), interpolation=transforms.InterpolationMode.BICUBIC),
    transforms.CenterCrop(518),
    lambda im: im.convert('RGB'),
    transforms.ToTensor(),
    transforms.Normalize((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)),
])
for _ in range(2): t(img)
wall, cpu = [], []
for _ in range(n):
    c0 = time.process_time(); t0 = time.perf_counter(); t(img)
    wall.append((time.perf_counter() - t0) * 1000); cpu.append((time.process_time() - c0) * 1000)
print(json.dumps({'wall': wall, 'cpu': cpu}))
`;

const PY_GAUSSIAN = `
import sys, time, json, numpy as np
from scipy.ndimage import gaussian_filter
n = int(sys.argv[1])
m = np.random.default_rng(0).random((518, 518), dtype=np.float32)
for _ in range(2): gaussian_filter(m, sigma=4)
wall, cpu = [], []
for _ in range(n):
    c0 = time.process_time(); t0 = time.perf_counter(); gaussian_filter(m, sigma=4)
    wall.append((time.perf_counter() - t0) * 1000); cpu.append((time.process_time() - c0) * 1000)
print(json.dumps({'wall': wall, 'cpu': cpu}))
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

async function oursPreprocess(name: string, threads: number): Promise<BenchResult> {
  const cv = loadOpenCV();
  const frame = new cv.Mat(noiseFrame(1920, 1080), 1080, 1920, cv.CV_8UC3);
  const p = new Preprocessor({ size: 518, threads });
  try {
    const out = new Float32Array(p.imageLength);
    const s = await measureWithCpu(() => p.frameInto(frame, out, 0));
    const r = summarize(name, 'ms', s.wall, { cpuMsMedian: round(s.cpuMedian), threads });
    return withRatio(r, 'preprocess.official_1080p');
  } finally {
    p.close();
  }
}

export const benchmarks: Benchmark[] = [
  {
    name: 'preprocess.official_1080p',
    description:
      'ms per 1920x1080 frame: torchvision Resize(518, BICUBIC)+CenterCrop+ToTensor+Normalize on a PIL image (python3)',
    async run() {
      return baselineResult('preprocess.official_1080p', pythonSamples(PY_PREPROCESS));
    },
  },
  {
    name: 'preprocess.ours_1080p',
    description:
      'ms per 1920x1080 BGR Mat -> float32 [3,518,518], identical to torchvision/PIL (baseline preprocess.official_1080p)',
    run: () => oursPreprocess('preprocess.ours_1080p', 1),
  },
  {
    name: 'preprocess.ours_1080p.threads2',
    description: 'as preprocess.ours_1080p with threads: 2 (the frame split over two threads)',
    run: () => oursPreprocess('preprocess.ours_1080p.threads2', 2),
  },
  {
    name: 'postprocess.gaussian_518.scipy',
    description: 'ms per 518x518 float32 map: scipy.ndimage.gaussian_filter(sigma=4) (python3)',
    async run() {
      return baselineResult('postprocess.gaussian_518.scipy', pythonSamples(PY_GAUSSIAN));
    },
  },
  {
    name: 'postprocess.gaussian_518',
    description:
      'ms per 518x518 float32 map: our gaussian filter, sigma 4, bit-identical to scipy (baseline postprocess.gaussian_518.scipy)',
    async run() {
      const f = new GaussianFilter(518, 518, { sigma: 4 });
      const map = new Float32Array(518 * 518).map((_, i) => ((i * 2654435761) >>> 0) / 2 ** 32);
      const out = new Float32Array(map.length);
      const s = await measureWithCpu(() => f.run(map, out));
      const r = summarize('postprocess.gaussian_518', 'ms', s.wall, { cpuMsMedian: round(s.cpuMedian) });
      return withRatio(r, 'postprocess.gaussian_518.scipy');
    },
  },
];
