// Model benchmarks: the official-equivalent PyTorch forward (models/export/bench_reference.py: two
// vision passes, 77-token text, float32, batch 1, 2 threads, random weights of the real architecture)
// against our bundle end to end through onnxruntime-node (prompt tokens, engine, HSF, map smoothing),
// in ms per image, measured in the same run; with ADACLIP_OFFICIAL_DIR (a checkout of the official
// AdaCLIP code, never part of this repository), the official code itself as a check of the reference
// (models/export/bench_official.py). Each reports its time by stage and its CPU time (all threads):
// on a loaded machine CPU time moves less than wall-clock time. Bundles are exported into
// .tmp/bench-bundles once and reused.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { OnnxRuntimeEngine } from '../../engines/onnxruntime.js';
import { createHsfRunner } from '../../hsf/index.js';
import { loadBundle, type Bundle } from '../../model/bundle.js';
import { PromptTokenCache } from '../../model/prompts.js';
import { gaussianFilter } from '../../postprocess/gaussian.js';
import { scoreBatch } from '../../postprocess/score.js';
import { summarize, type BenchContext, type BenchResult, type Benchmark } from '../harness.js';
import { profileEngineStages } from './engine-stages.js';

const PYTHON = '/usr/bin/python3';
/**
 * Threads on both sides (ADACLIP_BENCH_THREADS, default 2). PyTorch's BLAS (OpenBLAS in Debian's
 * torch) keeps its own threads: they get the same count, or a loaded machine sees four threads
 * spinning where two were asked for. 1 gives the per-core comparison, whose CPU time holds up best
 * on a shared machine (no thread waits for a descheduled partner).
 */
const THREADS = Number(process.env.ADACLIP_BENCH_THREADS ?? 2);
if (!Number.isInteger(THREADS) || THREADS < 1)
  throw new Error(
    `ADACLIP_BENCH_THREADS must be a positive integer, got ${process.env.ADACLIP_BENCH_THREADS}`,
  );
/** The class bench_reference.py uses too (its longest sentence has 16 tokens). */
const BENCH_CLASS = 'transistor-board';
/** Reference medians of this run (wall, CPU), so each `ours` result carries its speed-up. */
const referenceMedians = new Map<string, { wall: number; cpu?: number }>();

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'models', 'export'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('bench: repository root not found');
}

interface ModelCase {
  key: string;
  arch: string;
  imageSize: number;
  long: boolean;
}

const CASES: ModelCase[] = [
  { key: 'vitb16_224', arch: 'ViT-B-16', imageSize: 224, long: false },
  { key: 'vitl14_336_518', arch: 'ViT-L-14-336', imageSize: 518, long: true },
  { key: 'vitl14_336_336', arch: 'ViT-L-14-336', imageSize: 336, long: true },
];

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function run(cmd: string, args: string[], log: (m: string) => void): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const env = { ...process.env, OMP_NUM_THREADS: String(THREADS), OPENBLAS_NUM_THREADS: String(THREADS) };
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      for (const line of d.toString().split('\n')) if (line.trim()) log(line.trim());
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolvePromise(out)
        : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.slice(-2000)}`)),
    );
  });
}

/** The real vocabulary of a clone's test data (real prompt lengths), else a bytes-only one. */
function benchVocab(root: string, dir: string): string {
  const real = join(root, 'test', 'fixtures', 'bpe_simple_vocab_16e6.txt.gz');
  if (existsSync(real)) return real;
  const path = join(dir, 'vocab_bytes_only.txt.gz');
  writeFileSync(path, gzipSync(Buffer.from('"bpe_simple_vocab_16e6.txt#version: 0.2', 'utf8')));
  return path;
}

/** Exports (once) the random-weight bundle of a case into .tmp/bench-bundles. */
async function benchBundle(c: ModelCase, ctx: BenchContext): Promise<Bundle> {
  const root = repoRoot();
  const base = join(root, '.tmp', 'bench-bundles');
  const dir = join(base, c.key);
  if (existsSync(join(dir, 'manifest.json'))) {
    try {
      return await loadBundle(dir, { verifyHashes: false });
    } catch (err) {
      ctx.log(`cached bundle ${dir} unusable (${(err as Error).message}): exporting again`);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  mkdirSync(base, { recursive: true });
  ctx.log(`exporting random-weight ${c.arch} at ${c.imageSize} into ${dir} (once)`);
  await run(
    PYTHON,
    [
      join(root, 'models', 'export', 'export.py'),
      '--random-init',
      '0',
      '--arch',
      c.arch,
      '--image-size',
      String(c.imageSize),
      '--vocab',
      benchVocab(root, base),
      '--out',
      dir,
    ],
    ctx.log,
  );
  return loadBundle(dir, { verifyHashes: false });
}

/** Ours: cached prompt tokens -> onnxruntime -> HSF -> gaussian smoothing, batch 1. */
async function benchOurs(c: ModelCase, ctx: BenchContext): Promise<BenchResult> {
  const bundle = await benchBundle(c, ctx);
  const engine = await OnnxRuntimeEngine.create(bundle, { threads: THREADS, maxBatch: 1 });
  const S = bundle.manifest.imageSize;
  const prompts = new PromptTokenCache(bundle.tokenizer, bundle.manifest.prompts);
  const hsf = createHsfRunner('cpu'); // what the service runs: native when built
  const image = new Float32Array(3 * S * S);
  for (let i = 0; i < image.length; i++) image[i] = Math.sin(i * 0.001);
  const tokens = prompts.get(BENCH_CLASS);
  const input = {
    images: image,
    batch: 1,
    tokens: tokens.tokens,
    sentences: tokens.sentences,
    context: tokens.context,
  };
  const runs: { wall: number; cpu: number; engine: number; hsf: number; smoothing: number }[] = [];
  const iterations = c.long ? 2 : 5;
  try {
    for (let i = 0; i < 1 + iterations; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const out = await engine.run({ ...input, tokens: prompts.get(BENCH_CLASS).tokens });
      const t1 = performance.now();
      await scoreBatch(out, hsf, bundle.manifest.hsf);
      const t2 = performance.now();
      gaussianFilter(out.anomalyMap, S, S);
      const t3 = performance.now();
      const d = process.cpuUsage(c0);
      const run = {
        wall: t3 - t0,
        cpu: (d.user + d.system) / 1000,
        engine: t1 - t0,
        hsf: t2 - t1,
        smoothing: t3 - t2,
      };
      ctx.log(
        `ours run ${i + 1}/${1 + iterations}: ${run.wall.toFixed(0)} ms (CPU ${run.cpu.toFixed(0)} ms)${i ? '' : ' (warm-up)'}`,
      );
      if (i > 0) runs.push(run);
    }
  } finally {
    await engine.close();
  }
  const pick = (k: keyof (typeof runs)[number]) => Math.round(median(runs.map((r) => r[k])));
  const result = summarize(
    `model.ours.${c.key}`,
    'ms',
    runs.map((r) => r.wall),
    {
      perImage: true,
      threads: THREADS,
      context: tokens.context,
      provider: engine.info.device,
      cpu_median_ms: pick('cpu'),
      stages_ms: { engine: pick('engine'), hsf: pick('hsf'), smoothing: pick('smoothing') },
    },
  );
  // one more inference, profiled: the engine's time by stage
  try {
    const profiled = await profileEngineStages(repoRoot(), bundle, input, THREADS);
    result.engine_stages_ms = profiled.stagesMs;
    result.engine_profiled_run_ms = profiled.runMs;
  } catch (err) {
    result.engine_stages_error = (err as Error).message;
  }
  const reference = referenceMedians.get(c.key);
  if (reference !== undefined) {
    result.speedupVsReference = Math.round((reference.wall / result.median) * 100) / 100;
    if (reference.cpu !== undefined)
      result.cpuSpeedupVsReference =
        Math.round((reference.cpu / (result.cpu_median_ms as number)) * 100) / 100;
    ctx.log(
      `speed-up over model.reference.${c.key}: ${result.speedupVsReference}x (CPU time ${result.cpuSpeedupVsReference}x)`,
    );
  }
  return result;
}

/** The official code itself, run by models/export/bench_official.py (ADACLIP_OFFICIAL_DIR). */
async function benchOfficial(c: ModelCase, ctx: BenchContext): Promise<BenchResult> {
  const official = process.env.ADACLIP_OFFICIAL_DIR;
  if (!official) {
    throw new Error(
      'set ADACLIP_OFFICIAL_DIR to a checkout of github.com/caoyunkang/AdaCLIP (it is not part of this repository)',
    );
  }
  const root = repoRoot();
  const out = await run(
    PYTHON,
    [
      join(root, 'models', 'export', 'bench_official.py'),
      '--official',
      official,
      '--arch',
      c.arch,
      '--image-size',
      String(c.imageSize),
      '--threads',
      String(THREADS),
      '--n',
      c.long ? '2' : '3',
    ],
    ctx.log,
  );
  const parsed = JSON.parse(out.trim().split('\n').pop() ?? '') as {
    samples_ms?: number[];
    [k: string]: unknown;
  };
  if (!Array.isArray(parsed.samples_ms) || parsed.samples_ms.length === 0)
    throw new Error(`bench_official.py printed no samples: ${out.slice(-500)}`);
  const { samples_ms: samples, name: _n, unit: _u, median_ms: _m, n: _c, ...extra } = parsed;
  return summarize(`model.official.${c.key}`, 'ms', samples, { perImage: true, ...extra });
}

/** The PyTorch reference, run by models/export/bench_reference.py; it prints one JSON object. */
async function benchReference(c: ModelCase, ctx: BenchContext): Promise<BenchResult> {
  const root = repoRoot();
  const script = join(root, 'models', 'export', 'bench_reference.py');
  if (!existsSync(script)) throw new Error(`bench: ${script} is missing`);
  const out = await run(
    PYTHON,
    [
      script,
      '--arch',
      c.arch,
      '--image-size',
      String(c.imageSize),
      '--threads',
      String(THREADS),
      '--repeats',
      c.long ? '2' : '3',
    ],
    ctx.log,
  );
  const last = out.trim().split('\n').pop() ?? '';
  const parsed = JSON.parse(last) as { samples_ms?: number[]; [k: string]: unknown };
  const samples = parsed.samples_ms;
  if (!Array.isArray(samples) || samples.length === 0)
    throw new Error(`bench_reference.py printed no samples: ${last}`);
  // keep its descriptive fields (arch, torch version, context...), not its own summary
  const { samples_ms: _s, name: _n, unit: _u, median_ms: _m, p95_ms: _p, n: _c, ...extra } = parsed;
  const result = summarize(`model.reference.${c.key}`, 'ms', samples, {
    perImage: true,
    threads: THREADS,
    ...extra,
  });
  referenceMedians.set(c.key, {
    wall: result.median,
    cpu: typeof parsed.cpu_median_ms === 'number' ? parsed.cpu_median_ms : undefined,
  });
  return result;
}

/** Runs reference and ours in the same call so the ratio compares one machine state. */
function pair(c: ModelCase): Benchmark[] {
  return [
    {
      name: `model.official.${c.key}`,
      description: `ms per image: the official AdaCLIP code itself (ADACLIP_OFFICIAL_DIR), ${c.arch} at ${c.imageSize}, random weights, float32, batch 1, ${THREADS} threads, by stage (the check of model.reference.${c.key})`,
      long: true,
      run: (ctx) => benchOfficial(c, ctx),
    },
    {
      name: `model.reference.${c.key}`,
      description: `ms per image: official-equivalent PyTorch forward, ${c.arch} at ${c.imageSize}, float32, batch 1, ${THREADS} threads (baseline)`,
      long: c.long,
      run: (ctx) => benchReference(c, ctx),
    },
    {
      name: `model.ours.${c.key}`,
      description: `ms per image: our bundle ${c.arch} at ${c.imageSize} through onnxruntime-node (tokens, engine, HSF, smoothing), ${THREADS} threads`,
      long: c.long,
      run: (ctx) => benchOurs(c, ctx),
    },
  ];
}

export const benchmarks: Benchmark[] = CASES.flatMap(pair);
