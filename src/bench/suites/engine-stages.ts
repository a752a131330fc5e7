// Where the engine's time goes: one profiled onnxruntime inference of a bundle, its per-node kernel
// times summed by stage of the official inference (two vision passes, text, the rest). The stage of
// each node comes from the data flow of the graph onnxruntime actually ran (optimised for this
// machine, fused nodes included): models/export/graph_stages.py.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { OnnxRuntimeEngine } from '../../engines/onnxruntime.js';
import type { EngineInput } from '../../engines/engine.js';
import type { Bundle } from '../../model/bundle.js';
import { PYTHON } from './python-timer.js';

export interface EngineStages {
  /** Kernel time per stage in the profiled run, ms. */
  stagesMs: Record<string, number>;
  /** The profiled run as onnxruntime timed it, ms (kernels plus scheduling). */
  runMs: number;
}

interface ProfileEvent {
  cat?: string;
  name?: string;
  ts?: number;
  dur?: number;
}

/** Node name -> stage, from graph_stages.py on the optimised graph. */
function nodeStages(root: string, onnxPath: string): Record<string, string> {
  const script = join(root, 'models', 'export', 'graph_stages.py');
  const res = spawnSync(PYTHON, [script, onnxPath], { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (res.status !== 0) throw new Error(`graph_stages.py failed: ${res.stderr || res.error?.message}`);
  return JSON.parse(res.stdout) as Record<string, string>;
}

/** Runs `input` twice on a profiling session (the first run warms up) and splits the second. */
export async function profileEngineStages(
  root: string,
  bundle: Bundle,
  input: EngineInput,
  threads: number,
): Promise<EngineStages> {
  const dir = mkdtempSync(join(root, '.tmp', 'ort-profile-'));
  try {
    const optimized = join(dir, 'optimized.onnx');
    const engine = await OnnxRuntimeEngine.create(bundle, {
      threads,
      maxBatch: input.batch,
      profile: { filePrefix: join(dir, 'profile'), optimizedModelPath: optimized },
    });
    try {
      await engine.run(input);
      await engine.run(input);
    } finally {
      engine.endProfiling();
      await engine.close();
    }
    const file = readdirSync(dir).find((f) => /^profile.*\.json$/.test(f));
    if (!file) throw new Error(`onnxruntime wrote no profile into ${dir}`);
    const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ProfileEvent[];
    const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
    const last = runs[runs.length - 1];
    if (!last?.ts || !last.dur) throw new Error('the profile has no model_run event');
    const stageOf = nodeStages(root, optimized);
    const stagesMs: Record<string, number> = {};
    for (const e of events) {
      if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time') || e.ts === undefined) continue;
      if (e.ts < last.ts || e.ts > last.ts + last.dur) continue;
      const stage = stageOf[e.name.slice(0, -'_kernel_time'.length)] ?? 'unattributed';
      stagesMs[stage] = (stagesMs[stage] ?? 0) + (e.dur ?? 0) / 1000;
    }
    for (const k of Object.keys(stagesMs)) stagesMs[k] = Math.round(stagesMs[k]);
    return { stagesMs, runMs: Math.round(last.dur / 1000) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
