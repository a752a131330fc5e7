// The benchmark harness behind `npm run bench`. A suite exports named benchmarks; names are dotted
// and stable (issues refer to them), and a baseline measured in the same run gets its own name.
export interface BenchResult {
  name: string;
  unit: string;
  median: number;
  p95: number;
  n: number;
  [extra: string]: unknown;
}

export interface BenchContext {
  /** --long: include the slow benchmarks (e.g. the ViT-L-14-336 model). */
  long: boolean;
  log: (msg: string) => void;
}

export interface Benchmark {
  name: string;
  /** What it measures, its unit and its baseline, for `npm run bench -- --list`. */
  description: string;
  /** Needs --long (minutes of CPU). */
  long?: boolean;
  run(ctx: BenchContext): Promise<BenchResult | BenchResult[]>;
}

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function summarize(
  name: string,
  unit: string,
  samples: number[],
  extra: Record<string, unknown> = {},
): BenchResult {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    name,
    unit,
    median: quantile(sorted, 0.5),
    p95: quantile(sorted, 0.95),
    n: samples.length,
    ...extra,
  };
}

export interface MeasureOptions {
  warmup?: number;
  iterations?: number;
  /** Stop early once this many ms were spent measuring (at least 3 samples). */
  maxMs?: number;
  /** Divide each sample by this (e.g. batch size, for ms per image). */
  per?: number;
}

/** Times fn repeatedly; returns per-call samples in milliseconds (divided by `per`). */
export async function measure(
  fn: () => unknown | Promise<unknown>,
  opts: MeasureOptions = {},
): Promise<number[]> {
  const { warmup = 2, iterations = 20, maxMs = 30_000, per = 1 } = opts;
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  const started = performance.now();
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    await fn();
    samples.push((performance.now() - t0) / per);
    if (samples.length >= 3 && performance.now() - started > maxMs) break;
  }
  return samples;
}
