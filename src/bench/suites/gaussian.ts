// The sigma-4 gaussian filter of the anomaly map against scipy, the official code's, measured in the
// same run (scipy in its own timed loop: one call is a few ms and the load moves less than that).
import { measure, summarize, type Benchmark, type BenchResult } from '../harness.js';
import { GaussianFilter } from '../../postprocess/gaussian.js';
import { median, pythonSamples, round } from './python-timer.js';

const ITERATIONS = 30;
const SCIPY = 'postprocess.gaussian_518.scipy';

/** The scipy median of this run, wall and CPU, for the ratio. */
let baseline: { wall: number; cpu: number } | undefined;

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

export const benchmarks: Benchmark[] = [
  {
    name: SCIPY,
    description: 'ms per 518x518 float32 map: scipy.ndimage.gaussian_filter(sigma=4) (python3)',
    async run() {
      const s = pythonSamples(PY_GAUSSIAN, ITERATIONS);
      const r = summarize(SCIPY, 'ms', s.wall, { cpuMsMedian: round(s.cpuMedian) });
      baseline = { wall: r.median, cpu: s.cpuMedian };
      return r;
    },
  },
  {
    name: 'postprocess.gaussian_518',
    description:
      'ms per 518x518 float32 map: our gaussian filter, sigma 4, bit-identical to scipy (baseline postprocess.gaussian_518.scipy)',
    async run(): Promise<BenchResult> {
      const f = new GaussianFilter(518, 518, { sigma: 4 });
      const map = new Float32Array(518 * 518).map((_, i) => ((i * 2654435761) >>> 0) / 2 ** 32);
      const out = new Float32Array(map.length);
      const cpu: number[] = [];
      const wall = await measure(
        () => {
          const c = process.cpuUsage();
          f.run(map, out);
          const d = process.cpuUsage(c);
          cpu.push((d.user + d.system) / 1000);
        },
        { iterations: ITERATIONS, warmup: 3 },
      );
      const cpuMedian = median(cpu.slice(-wall.length));
      const r = summarize('postprocess.gaussian_518', 'ms', wall, { cpuMsMedian: round(cpuMedian) });
      if (!baseline) return r;
      return {
        ...r,
        baseline: SCIPY,
        speedup: round(baseline.wall / r.median),
        cpuSpeedup: round(baseline.cpu / cpuMedian),
      };
    },
  },
];
