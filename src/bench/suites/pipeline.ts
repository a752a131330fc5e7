// Benchmarks of the streaming pipeline itself (src/pipeline): what it costs per frame besides the
// model, how long a frame takes from capture to decision under a multi-camera load, and whether
// memory stays flat over a long run.
//
// TEST DOUBLES, named as such: the engine is a fake that waits a fixed latency (no GPU here), and
// preprocessing is a stand-in that returns a prepared tensor (preprocessing is benchmarked in
// preprocess.*, the model in model.*, HSF in hsf.*). Post-processing is real: the gaussian
// smoothing of the 518x518 map and the Decider (thresholds, regions, temporal filter, events).
import type { Mat } from '@u4/opencv4nodejs';
import { quantile, summarize, type Benchmark, type BenchContext, type BenchResult } from '../harness.js';
import { cameraSchema, type CameraConfig } from '../../config/schema.js';
import { AlarmEventBuilder } from '../../events/alarm-events.js';
import { Decider, type DecideResult } from '../../postprocess/decide.js';
import { RegionMapper } from '../../postprocess/region-map.js';
import { createPipeline } from '../../pipeline/pipeline.js';
import type { FrameJob } from '../../pipeline/stages.js';
import type { CameraSource } from '../../sources/create.js';
import type { Frame } from '../../sources/frame.js';
import type { FrameSource, SourceState, SourceStateEvent } from '../../sources/source.js';
import { Pacer } from '../../sources/pacer.js';
import { SyntheticRenderer } from '../../sources/synthetic/render.js';

const S = 518;
const MAP_SIZE = S * S;

interface Tensor {
  source: { width: number; height: number; roi: { x: number; y: number; width: number; height: number } };
}

interface RawResult {
  map: Float32Array;
  score: number;
  source: Tensor['source'];
}

/** A 518x518 map: mostly low noise, or with two defect blobs (regions, events). */
function anomalyMap(defects: boolean): Float32Array {
  const m = new Float32Array(MAP_SIZE);
  for (let i = 0; i < m.length; i++) m[i] = 0.05 + (0.2 * ((i * 2654435761) % 1000)) / 1000;
  if (defects)
    for (const [cx, cy, r] of [
      [120, 140, 16],
      [330, 300, 24],
    ])
      for (let y = cy - r; y <= cy + r; y++)
        for (let x = cx - r; x <= cx + r; x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) m[y * S + x] = 0.9;
  return m;
}

const MAPS = { normal: anomalyMap(false), defect: anomalyMap(true) };

function benchCamera(id: string, admission: Record<string, unknown>): CameraConfig {
  return cameraSchema.parse({
    id,
    className: 'screw',
    source: { kind: 'synthetic' },
    admission,
    thresholds: { image: 0.5, pixel: 0.5, minRegionAreaPct: 0.01 },
  });
}

/** Real post-processing stages (smoothing, Decider) around a fake engine of fixed latency. */
function stages(
  cameras: CameraConfig[],
  engineLatencyMs: number,
  width: number,
  height: number,
  smoothing = true,
) {
  const deciders = new Map(cameras.map((c) => [c.id, new Decider(c)]));
  const eventBuilder = new AlarmEventBuilder({
    site: 'bench',
    line: 'bench',
    model: {
      bundleSha256: '0'.repeat(64),
      version: 'unversioned',
      kind: 'untrained-test',
      untrained: true,
      architecture: 'fake-engine',
      imageSize: S,
      hsf: false,
      checkpoints: {},
    },
  });
  const regionMapper = new RegionMapper(S, { sigma: 4, truncate: 4 });
  const side = Math.min(width, height);
  const tensor: Tensor = {
    source: { width, height, roi: { x: Math.floor((width - side) / 2), y: 0, width: side, height: side } },
  };
  let events = 0;
  return {
    events: () => events,
    stages: {
      // stand-in: the real preprocessing is benchmarked on its own (preprocess.*)
      preprocess: (): Tensor => tensor,
      // TEST DOUBLE: a fake engine that takes engineLatencyMs per call, whatever the batch
      engine: async (tensors: Tensor[], jobs: readonly FrameJob[]): Promise<RawResult[]> => {
        if (engineLatencyMs > 0) await new Promise((r) => setTimeout(r, engineLatencyMs));
        return jobs.map((j, i) => {
          const defect = j.frame.seq % 10 === 9;
          return {
            map: defect ? MAPS.defect : MAPS.normal,
            score: defect ? 0.9 : 0.1,
            source: tensors[i].source,
          };
        });
      },
      // post-processing: the gaussian smoothing of each map where a region can be (as the real fuse
      // stage does: region-map.ts; the bench cameras' pixel threshold is 0.5)
      hsf: (out: RawResult[]) =>
        out.map((r) => ({
          ...r,
          mapSmoothed: smoothing ? regionMapper.run(r.map, 0.5).map : r.map,
        })),
      decide: (r: RawResult & { mapSmoothed: Float32Array }, job: FrameJob): DecideResult => {
        const d = deciders.get(job.frame.cameraId)!.decide({
          seq: job.frame.seq,
          capturedAtWall: job.frame.capturedAtWall,
          capturedAtMono: job.frame.capturedAtMono,
          score: r.score,
          scoreWithoutHsf: r.score,
          mapSmoothed: r.mapSmoothed,
          mapSize: S,
          source: r.source,
          timings: job.timings,
        });
        const event = eventBuilder.fromDecision(d);
        if (event) {
          JSON.stringify(event); // event building ends in a serialised payload
          events++;
        }
        return d;
      },
      publish: () => undefined,
    },
  };
}

/**
 * A camera replaying pre-rendered synthetic frames at fps: capture costs one copy per frame (a new
 * buffer, as a driver gives), not the rendering, so the benchmark measures the pipeline.
 */
class ReplayCamera implements FrameSource, CameraSource {
  readonly realtime: boolean;
  readonly live = false;
  readonly source = this;
  state: SourceState = 'online';
  private readonly pacer: Pacer | undefined;
  private readonly abort = new AbortController();
  private n = 0;

  constructor(
    private readonly frames: { image: Mat }[],
    fps: number | undefined,
    /** Hand out the same Mat (no copy): for the overhead benchmark, with releaseFrames false. */
    private readonly shared = false,
  ) {
    this.pacer = fps ? new Pacer(fps) : undefined;
    this.realtime = fps !== undefined;
  }

  onState(_l: (e: SourceStateEvent) => void): () => void {
    return () => undefined;
  }

  async open(): Promise<void> {}

  async read(): Promise<Frame | null> {
    if (this.pacer && !(await this.pacer.wait(this.abort.signal))) return null;
    if (this.abort.signal.aborted) return null;
    const src = this.frames[this.n % this.frames.length].image;
    const seq = this.n++;
    return {
      cameraId: '',
      seq,
      capturedAtMono: performance.now(),
      capturedAtWall: Date.now(),
      image: this.shared ? src : src.copy(),
      originalSize: { width: src.cols, height: src.rows },
    };
  }

  async close(): Promise<void> {
    this.abort.abort();
  }
}

function renderFrames(width: number, height: number, count: number, seed: number): { image: Mat }[] {
  const r = new SyntheticRenderer({ width, height, defectRate: 0.3, seed });
  return Array.from({ length: count }, (_, i) => ({ image: r.render(i * 3).image }));
}

/**
 * ms of pipeline work per 1080p frame with instant preprocess/engine, from the throughput over
 * chunks of frames (wall clock), plus the process CPU time per frame (less sensitive to other
 * processes sharing the CPU). `postprocess` false: the stages do nothing, which leaves the cost of
 * the pipeline's own machinery (admission, batching, ordering, timings).
 */
async function overhead1080p(ctx: BenchContext, name: string, postprocess: boolean): Promise<BenchResult> {
  const frames = renderFrames(1920, 1080, 1, 1);
  const cams = [benchCamera('c1', { policy: 'keep-all', queueSize: 16 })];
  const s = stages(cams, 0, 1920, 1080);
  const total = 1200;
  const warmup = 200;
  const cam = new ReplayCamera(frames, undefined, true);
  const done: number[] = [];
  let cpuAtWarmup: NodeJS.CpuUsage | undefined;
  let cpu: NodeJS.CpuUsage | undefined;
  const noop = {
    preprocess: s.stages.preprocess,
    engine: async (t: Tensor[]) => t,
    hsf: (o: Tensor[]) => o,
    decide: () => undefined,
    publish: () => undefined,
  };
  const p = createPipeline<Tensor, unknown, unknown, unknown>({
    cameras: cams,
    settings: { batchDeadlineMs: 0, maxInFlight: 1, shutdownDrainMs: 1000 },
    maxBatch: 4,
    stages: (postprocess ? s.stages : noop) as never,
    createSource: () => cam,
    releaseFrames: false,
  });
  p.onResult((o) => {
    done.push(o.publishedAtMono);
    if (done.length === warmup) cpuAtWarmup = process.cpuUsage();
    if (done.length === total) {
      cpu = process.cpuUsage(cpuAtWarmup);
      void p.stop();
    }
  });
  p.start();
  await p.done;
  const chunk = 20;
  const samples: number[] = [];
  for (let i = warmup + chunk; i < done.length; i += chunk) samples.push((done[i] - done[i - chunk]) / chunk);
  const cpuMsPerFrame = cpu ? (cpu.user + cpu.system) / 1000 / (total - warmup) : NaN;
  ctx.log(
    `${done.length} frames, ${s.events()} events built, ${p.drops.total()} dropped, CPU ${cpuMsPerFrame.toFixed(3)} ms/frame`,
  );
  return summarize(name, 'ms', samples, {
    cpuMsPerFrame,
    chunkFrames: chunk,
    includes: postprocess
      ? 'admission, batching, gaussian smoothing of the 518x518 map, Decider (thresholds, regions, temporal filter, event building), 1 in 10 frames defective'
      : 'admission, batching, ordering and timings only (stages do nothing)',
    excludes: 'preprocessing, engine, HSF (benchmarked as preprocess.*, model.*, hsf.*)',
    eventsBuilt: s.events(),
  });
}

interface LoadRun {
  latencies: number[];
  meanStageMs: Record<string, number>;
  meanBatch: number;
  processed: number;
  drops: Record<string, number>;
  rssMiB: number[];
  events: number;
}

/** 8 replayed synthetic cameras at 30 fps into a 50 ms fake engine, for durationS seconds. */
async function eightCameraLoad(
  durationS: number,
  sampleRss: boolean,
  warmupS: number,
  smoothing = true,
): Promise<LoadRun> {
  const width = 640;
  const height = 360;
  const frames = renderFrames(width, height, 16, 2);
  const cams = Array.from({ length: 8 }, (_, i) => benchCamera(`cam${i + 1}`, { policy: 'latest' }));
  const s = stages(cams, 50, width, height, smoothing);
  const p = createPipeline({
    cameras: cams,
    settings: { batchDeadlineMs: 10, maxInFlight: 1, shutdownDrainMs: 2000 },
    maxBatch: 8,
    stages: s.stages,
    createSource: () => new ReplayCamera(frames, 30),
  });
  const latencies: number[] = [];
  const started = performance.now();
  const stageSums: Record<string, number> = {};
  let batchSum = 0;
  p.onResult((o) => {
    if (performance.now() - started < warmupS * 1000) return;
    latencies.push(o.decidedAtMono - o.capturedAtMono);
    batchSum += o.batchSize;
    for (const [k, v] of Object.entries(o.timings))
      if (typeof v === 'number') stageSums[k] = (stageSums[k] ?? 0) + v;
  });
  const rssMiB: number[] = [];
  const sampler = sampleRss
    ? setInterval(() => rssMiB.push(process.memoryUsage().rss / 2 ** 20), 1000)
    : undefined;
  p.start();
  await new Promise((r) => setTimeout(r, durationS * 1000));
  if (sampler) clearInterval(sampler);
  await p.stop();
  const drops: Record<string, number> = {};
  for (const counts of Object.values(p.drops.snapshot()))
    for (const [reason, n] of Object.entries(counts)) if (n) drops[reason] = (drops[reason] ?? 0) + n;
  const n = Math.max(1, latencies.length);
  const meanStageMs = Object.fromEntries(
    Object.entries(stageSums).map(([k, v]) => [k, Math.round((v / n) * 100) / 100]),
  );
  return {
    latencies,
    processed: p.stats().processed,
    drops,
    rssMiB,
    events: s.events(),
    meanStageMs,
    meanBatch: batchSum / n,
  };
}

async function latency(ctx: BenchContext, name: string, smoothing: boolean): Promise<BenchResult> {
  const duration = Number(process.env.ADACLIP_BENCH_LATENCY_DURATION_S ?? 30);
  if (!(duration >= 5)) throw new Error(`ADACLIP_BENCH_LATENCY_DURATION_S must be >= 5, got ${duration}`);
  const r = await eightCameraLoad(duration, false, 3, smoothing);
  const sorted = [...r.latencies].sort((a, b) => a - b);
  const captured = r.processed + Object.values(r.drops).reduce((a, b) => a + b, 0);
  ctx.log(`${r.processed} frames decided of ${captured} captured; drops ${JSON.stringify(r.drops)}`);
  ctx.log(`mean per-frame stage ms ${JSON.stringify(r.meanStageMs)}, mean batch ${r.meanBatch.toFixed(2)}`);
  return summarize(name, 'ms', r.latencies, {
    p99: quantile(sorted, 0.99),
    max: sorted.at(-1),
    durationS: duration,
    decidedPerS: r.processed / duration,
    captured,
    drops: r.drops,
    meanStageMs: r.meanStageMs,
    meanBatch: r.meanBatch,
  });
}

export const benchmarks: Benchmark[] = [
  {
    name: 'pipeline.overhead_1080p',
    description:
      'ms per 1920x1080 frame for admission, batching, smoothing, decision and event building (fake instant engine and preprocess; goal <= 3)',
    run: (ctx) => overhead1080p(ctx, 'pipeline.overhead_1080p', true),
  },
  {
    name: 'pipeline.overhead_1080p.machinery',
    description:
      'ms per 1920x1080 frame for the pipeline machinery alone (admission, batching, ordering; stages do nothing)',
    run: (ctx) => overhead1080p(ctx, 'pipeline.overhead_1080p.machinery', false),
  },
  {
    name: 'pipeline.latency_p99_8cam',
    description:
      'capture-to-decision ms, 8 synthetic cameras at 30 fps, latest-wins, 50 ms fake engine (maxBatch 8, maxInFlight 1), real smoothing + Decider; p99 in the result (goal <= ~117)',
    run: (ctx) => latency(ctx, 'pipeline.latency_p99_8cam', true),
  },
  {
    name: 'pipeline.latency_p99_8cam.no_smoothing',
    description:
      'as pipeline.latency_p99_8cam without the gaussian smoothing of the maps (the pipeline and the Decider only)',
    run: (ctx) => latency(ctx, 'pipeline.latency_p99_8cam.no_smoothing', false),
  },
  {
    name: 'pipeline.rss_growth_pct',
    description:
      'RSS growth in % over a run of the 8-camera load (10 min; ADACLIP_BENCH_RSS_DURATION_S for a quick check; goal < 5)',
    long: true,
    async run(ctx) {
      const duration = Number(process.env.ADACLIP_BENCH_RSS_DURATION_S ?? 600);
      if (!(duration >= 20)) throw new Error(`ADACLIP_BENCH_RSS_DURATION_S must be >= 20, got ${duration}`);
      // RSS settles once caches, JIT and allocator pools are warm: growth is measured after that
      const warmupS = Math.max(10, Math.round(duration * 0.1));
      const r = await eightCameraLoad(duration, true, warmupS);
      const base = r.rssMiB.slice(warmupS - 3, warmupS + 2);
      const end = r.rssMiB.slice(-5);
      const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
      const growth = ((mean(end) - mean(base)) / mean(base)) * 100;
      ctx.log(
        `RSS ${mean(base).toFixed(1)} MiB after ${warmupS} s -> ${mean(end).toFixed(1)} MiB after ${duration} s; ${r.processed} frames decided`,
      );
      return {
        name: 'pipeline.rss_growth_pct',
        unit: '%',
        median: growth,
        p95: growth,
        n: 1,
        durationS: duration,
        warmupS,
        rssStartMiB: mean(base),
        rssEndMiB: mean(end),
        rssMaxMiB: Math.max(...r.rssMiB),
        framesDecided: r.processed,
        drops: r.drops,
      };
    },
  },
];
