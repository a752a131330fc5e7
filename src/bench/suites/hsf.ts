// HSF benchmarks (issue 4), ms per image, for 100 selected tokens x 4 layers x 768, k = 20, on
// clustered synthetic tokens (L2-normalised rows, fixed seeds): ours (batch 1 and 16), the
// official path (scikit-learn KMeans + torch centre averaging in a /usr/bin/python3 subprocess,
// same data, same run) and the npm ml-kmeans library doing the same K-Means on the same X.
// Each result also carries cpuMedian: the median CPU time per image (process CPU time, all threads),
// which a loaded shared machine distorts much less than the wall time.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { kmeans as mlKmeans } from 'ml-kmeans';
import { CpuHsfRunner } from '../../hsf/cpu.js';
import { FusionWorkspace, clusterCentres, fuseAndScore } from '../../hsf/fusion.js';
import { createCpuHsfRunner } from '../../hsf/index.js';
import { NativeCpuHsfRunner } from '../../hsf/native-cpu.js';
import { syntheticHsfInput } from '../../hsf/synthetic-input.js';
import type { HsfInput } from '../../hsf/types.js';
import { writeNpy } from '../../util/npy.js';
import { measure, quantile, summarize, type Benchmark, type BenchResult } from '../harness.js';

const ROWS = 100;
const LAYERS = 4;
const DIM = 768;
const K = 20;
const ALPHA = 0.2;
const SETTINGS = { kClusters: K, alpha: ALPHA };
const PYTHON = '/usr/bin/python3';

/** The repository root (from src/ under tsx or dist/src/ compiled): the folder with package.json. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('hsf bench: repository root not found');
    dir = up;
  }
  return dir;
}

/**
 * Wraps fn so that every call also records the process CPU time it took (ms, divided by `per`):
 * on a shared machine the wall time includes waiting for a core, the CPU time does not.
 */
function withCpuTime(fn: () => unknown, per = 1): { fn: () => unknown; cpuMedian: () => number } {
  const cpu: number[] = [];
  return {
    fn: () => {
      const c0 = process.cpuUsage();
      const r = fn();
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000 / per);
      return r;
    },
    cpuMedian: () =>
      quantile(
        [...cpu].sort((a, b) => a - b),
        0.5,
      ),
  };
}

/** A batch of realistic HSF inputs: 12 true directions per image, noise 1.0, unit rows. */
export function benchInput(batch: number): HsfInput {
  return syntheticHsfInput({ batch, rows: ROWS, layers: LAYERS, dim: DIM, seed: 1000, featureSeed: 77 });
}

function runnerFacts(runner: CpuHsfRunner | NativeCpuHsfRunner): Record<string, unknown> {
  return runner instanceof NativeCpuHsfRunner
    ? {
        implementation: 'native',
        kernel: runner.kernel,
        threads: runner.options.threads,
        nInit: runner.options.nInit,
      }
    : { implementation: 'typescript', threads: 1, nInit: runner.kmeans.nInit };
}

function ours(batch: number, typescript = false): Benchmark {
  const name = typescript ? `hsf.ours_typescript.b${batch}` : `hsf.ours.b${batch}`;
  return {
    name,
    description: typescript
      ? `ms per image: the TypeScript fallback (WebAssembly Gram, Gram K-Means) at batch ${batch}, 100x4x768, k=20`
      : `ms per image: our CPU HSF as the service runs it (native when built) at batch ${batch}, 100x4x768, k=20`,
    async run() {
      const input = benchInput(batch);
      // what the service uses on the CPU: the native path when the addon is built, else TypeScript
      const runner = typescript ? new CpuHsfRunner() : createCpuHsfRunner();
      const timed = withCpuTime(() => runner.runSync(input, SETTINGS), batch);
      const samples = await measure(timed.fn, {
        per: batch,
        iterations: batch === 1 ? 200 : 20,
        maxMs: 20_000,
      });
      return summarize(name, 'ms', samples, { batch, ...runnerFacts(runner), cpuMedian: timed.cpuMedian() });
    },
  };
}

const official: Benchmark = {
  name: 'hsf.official.b1',
  description:
    'ms per image: the official HSF path (sklearn KMeans n_init=auto + torch centre averaging, /usr/bin/python3)',
  async run(): Promise<BenchResult> {
    const input = benchInput(1);
    const dir = mkdtempSync(join(tmpdir(), 'hsf-bench-'));
    try {
      writeNpy(join(dir, 'tokens.npy'), input.tokens, [ROWS, LAYERS, DIM]);
      writeNpy(join(dir, 'u.npy'), input.globalFeature, [DIM]);
      writeNpy(join(dir, 't.npy'), input.textFeatures, [2, DIM]);
      const script = join(repoRoot(), 'models', 'hsf-reference', 'official_hsf_bench.py');
      const args = [script, ...['tokens', 'u', 't'].map((f) => join(dir, `${f}.npy`)), '30', '3'];
      const { stdout } = await promisify(execFile)(PYTHON, args, { timeout: 300_000 });
      const out = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
        samples_ms: number[];
        cpu_ms: number[];
        sklearn: string;
      };
      const cpuMedian = quantile(
        [...out.cpu_ms].sort((a, b) => a - b),
        0.5,
      );
      return summarize('hsf.official.b1', 'ms', out.samples_ms, { sklearn: out.sklearn, cpuMedian });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

const mlkmeans: Benchmark = {
  name: 'hsf.mlkmeans.b1',
  description: 'ms per image: ml-kmeans (kmeans++, 1 init) on the same X + our centre averaging and fusion',
  async run() {
    const input = benchInput(1);
    const n = LAYERS * DIM;
    // the row arrays ml-kmeans wants are built once, outside the timing (in its favour)
    const rows = Array.from({ length: ROWS }, (_, i) =>
      Array.from(input.tokens.subarray(i * n, (i + 1) * n)),
    );
    const ws = new FusionWorkspace(K, DIM);
    const labels = new Int32Array(ROWS);
    let seed = 1;
    const timed = withCpuTime(() => {
      const res = mlKmeans(rows, K, { initialization: 'kmeans++', seed: seed++ });
      labels.set(res.clusters);
      clusterCentres(input.tokens, 0, ROWS, LAYERS, labels, 0, ws);
      return fuseAndScore(ws, input.globalFeature, 0, input.textFeatures, 0, ALPHA);
    });
    const samples = await measure(timed.fn, { iterations: 20, maxMs: 20_000 });
    return summarize('hsf.mlkmeans.b1', 'ms', samples, { cpuMedian: timed.cpuMedian() });
  },
};

export const benchmarks: Benchmark[] = [official, ours(1), ours(16), ours(1, true), mlkmeans];
