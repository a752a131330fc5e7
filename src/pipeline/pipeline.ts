// The streaming pipeline: sources -> admission -> batches -> preprocess -> engine -> hsf -> decide ->
// publish. The only module that knows about RxJS; it owns concurrency, back-pressure and timing.
//
// Back-pressure is pull-based: a per-camera pump reads its source into a bounded admission queue
// (latest-wins replaces, keep-all pauses the source), and a new batch is only formed when one of the
// maxInFlight engine slots is free ("credits"). So no buffer between the stages can grow: frames
// wait only in the bounded per-camera queues, where they are replaced or dropped with a reason.
import {
  Observable,
  Subject,
  concatMap,
  from,
  map,
  merge,
  range,
  takeWhile,
  tap,
  type Subscription,
} from 'rxjs';
import { AdmissionQueue } from '../admit/admission-queue.js';
import { DropCounter } from '../admit/drop-counter.js';
import type { DropReason } from '../admit/drop-reasons.js';
import type { CameraConfig, Config } from '../config/schema.js';
import type { SourceState, SourceStateEvent } from '../sources/source.js';
import { releaseFrame } from '../sources/supervisor.js';
import { createCameraSource, type CameraSource } from '../sources/create.js';
import { Batcher } from './batcher.js';
import type { FrameJob, FrameOutcome, ModelStageSet, PipelineStages } from './stages.js';

export interface PipelineLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface PipelineOptions<TTensor, TEngineOut, TResult, TDecision> {
  cameras: CameraConfig[];
  /** config.pipeline: batchDeadlineMs, maxInFlight, shutdownDrainMs. */
  settings: Config['pipeline'];
  /** The engine's maximum batch (engine.info.maxBatch). */
  maxBatch: number;
  stages: PipelineStages<TTensor, TEngineOut, TResult, TDecision>;
  /** How a camera's source is made; default createCameraSource (from camera.source). */
  createSource?: (camera: CameraConfig) => CameraSource;
  log?: PipelineLogger;
  /** Release each frame's pixels once published or dropped (default true): bounds native memory. */
  releaseFrames?: boolean;
}

export interface StopReport {
  /** True when everything admitted was processed within shutdownDrainMs. */
  drained: boolean;
  /** Frames abandoned (queued or in flight) when the drain time ran out. */
  abandoned: number;
}

export interface PipelineStats {
  /** Frames waiting in each camera's admission queue. */
  queued: Record<string, number>;
  /** Batches formed and not yet finished (at most 2 x maxInFlight). */
  batchesInFlight: number;
  /** Frames that went all the way through. */
  processed: number;
}

interface Camera {
  config: CameraConfig;
  source: CameraSource;
  queue: AdmissionQueue<FrameJob>;
  state: SourceState;
  /** Suspended by an operator: frames are read (a live camera stays drained) but not inspected. */
  suspended: boolean;
  /** Wakes a pump that paused a non-real-time source while suspended. */
  resumed?: () => void;
  pump?: Promise<void>;
  /** Set by removeCamera(): the pump stops reading, what was admitted is still processed. */
  removed: boolean;
  /** Frames admitted and not yet published or dropped. */
  outstanding: number;
  /** Called when outstanding falls to 0 while removeCamera() waits. */
  idle?: () => void;
}

/** The model's stages in use, and how many batches that began with them are not finished. */
interface ActiveModel<TTensor, TEngineOut, TResult> {
  stages: ModelStageSet<TTensor, TEngineOut, TResult>;
  batches: number;
  /** Set once replaced: called when its last batch is finished. */
  retired?: () => void;
}

interface Inferred<TTensor, TEngineOut, TResult> {
  jobs: FrameJob[];
  out?: TEngineOut;
  /** The model this batch began with: it finishes with the same one. */
  model: ActiveModel<TTensor, TEngineOut, TResult>;
}

const NOOP_LOG: PipelineLogger = { debug() {}, info() {}, warn() {}, error() {} };

export class Pipeline<TTensor, TEngineOut, TResult, TDecision> {
  /** Every dropped frame, by camera and reason. */
  readonly drops = new DropCounter();
  /** Camera state changes (online, stalled, reconnecting, offline). */
  readonly states$: Observable<SourceStateEvent>;
  /** One outcome per frame that was decided and published. */
  readonly results$: Observable<FrameOutcome<TDecision>>;
  /** Resolves when the pipeline has finished: every source ended and was drained, or stop() ran. */
  readonly done: Promise<void>;

  private readonly cameras = new Map<string, Camera>();
  private readonly stateSubject = new Subject<SourceStateEvent>();
  private readonly resultSubject = new Subject<FrameOutcome<TDecision>>();
  private readonly batcher: Batcher<FrameJob>;
  private readonly log: PipelineLogger;
  private readonly inFlight = new Set<FrameJob>();
  /** The camera of each admitted frame, until it is published or dropped. */
  private readonly admittedBy = new WeakMap<FrameJob, Camera>();
  private readonly make: (camera: CameraConfig) => CameraSource;
  private model: ActiveModel<TTensor, TEngineOut, TResult>;
  private readonly captureListeners = new Set<(cameraId: string) => void>();
  private readonly release: boolean;
  private subscription: Subscription | undefined;
  private pumps: Promise<void>[] = [];
  private resolveDone!: () => void;
  private started = false;
  private stopping: Promise<StopReport> | undefined;
  private stopRequested = false;
  private completed = false;
  private abandoned = false;
  private batchesInFlight = 0;
  private processed = 0;

  constructor(private readonly o: PipelineOptions<TTensor, TEngineOut, TResult, TDecision>) {
    if (o.cameras.length === 0) throw new Error('pipeline needs at least one camera');
    if (!Number.isInteger(o.maxBatch) || o.maxBatch < 1)
      throw new Error(`pipeline maxBatch must be an integer >= 1, got ${o.maxBatch}`);
    this.log = o.log ?? NOOP_LOG;
    this.release = o.releaseFrames ?? true;
    this.states$ = this.stateSubject.asObservable();
    this.results$ = this.resultSubject.asObservable();
    this.done = new Promise<void>((resolve) => (this.resolveDone = resolve)).then(() => {
      this.completed = true;
    });
    this.make = o.createSource ?? ((c: CameraConfig) => createCameraSource(c, { log: this.log }));
    this.model = { stages: o.stages, batches: 0 };
    for (const config of o.cameras) {
      if (this.cameras.has(config.id)) throw new Error(`camera id "${config.id}" appears twice`);
      this.cameras.set(config.id, this.createCamera(config));
    }
    this.batcher = new Batcher(
      [...this.cameras.values()].map((c) => c.queue),
      {
        maxBatch: o.maxBatch,
        deadlineMs: o.settings.batchDeadlineMs,
      },
    );
  }

  /** Starts reading every camera and processing; returns at once (see done). */
  start(): void {
    if (this.started) throw new Error('pipeline already started');
    this.started = true;
    this.pumps = [...this.cameras.values()].map((c) => (c.pump = this.pump(c)));
    const credits = new Subject<void>();
    const batches$ = merge(range(0, this.o.settings.maxInFlight), credits).pipe(
      concatMap(() => from(this.batcher.next())),
      takeWhile((b): b is FrameJob[] => b !== null),
    );
    this.subscription = batches$
      .pipe(
        // infer() starts at once (at most maxInFlight are running: one per credit) ...
        map((jobs) => ({ jobs, inferred: this.infer(jobs) })),
        // ... but results are finished strictly in batch order, so decide() sees each camera's
        // frames in capture order; a credit goes back as soon as the engine part is done
        concatMap(({ inferred }) =>
          from(inferred).pipe(
            tap(() => credits.next()),
            concatMap((r) => from(this.finish(r))),
          ),
        ),
      )
      .subscribe({
        complete: () => this.resolveDone(),
        error: (err: unknown) => {
          // unreachable by construction (every stage call is guarded); logged if it ever happens
          this.log.error({ err }, 'pipeline stream failed');
          this.resolveDone();
        },
      });
  }

  /**
   * Stops the sources, processes what was already admitted within shutdownDrainMs, and abandons the
   * rest (counted as "shutdown" drops). Safe to call twice.
   */
  stop(): Promise<StopReport> {
    this.stopRequested = true;
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  /** Captures the next frame of a trigger camera for this part; returns the trigger id. */
  trigger(cameraId: string, partId?: string): string {
    const cam = this.cameras.get(cameraId);
    if (!cam) throw new Error(`no camera "${cameraId}" (known: ${[...this.cameras.keys()].join(', ')})`);
    if (!cam.source.trigger)
      throw new Error(`camera "${cameraId}" is not a trigger camera (source.kind is not "trigger")`);
    return cam.source.trigger(partId);
  }

  /** Replaces a camera's settings (class name, thresholds, ROI) for frames captured from now on. */
  updateCamera(config: CameraConfig): void {
    const cam = this.cameras.get(config.id);
    if (!cam) throw new Error(`no camera "${config.id}"`);
    cam.config = config;
  }

  /**
   * Starts a camera while the others run (a reloaded config): its source opens and its frames join
   * the next batches.
   */
  addCamera(config: CameraConfig): void {
    if (this.stopRequested || this.completed) throw new Error('the pipeline has stopped');
    if (this.cameras.has(config.id)) throw new Error(`camera id "${config.id}" is already running`);
    const cam = this.createCamera(config);
    this.cameras.set(config.id, cam);
    this.batcher.add(cam.queue);
    if (this.started) {
      cam.pump = this.pump(cam);
      this.pumps.push(cam.pump);
    }
  }

  /**
   * Stops one camera while the others run: its source is closed, and every frame it already
   * admitted is still inspected and published (nothing accepted is lost). Resolves once its last
   * frame has left the pipeline; from the call on, the id is free for addCamera (a changed camera).
   */
  async removeCamera(cameraId: string): Promise<void> {
    const cam = this.cameras.get(cameraId);
    if (!cam) throw new Error(`no camera "${cameraId}"`);
    this.cameras.delete(cameraId);
    cam.removed = true;
    const wake = cam.resumed;
    cam.resumed = undefined;
    wake?.();
    await cam.source.source
      .close()
      .catch((err: unknown) => this.log.warn({ err, camera: cameraId }, 'closing a removed camera failed'));
    // the pump ends (its read returns nothing now) and closes the queue; what is queued is taken
    await cam.pump;
    cam.queue.close();
    this.batcher.signal.notify();
    if (cam.outstanding > 0) await new Promise<void>((resolve) => (cam.idle = resolve));
    this.batcher.remove(cam.queue);
  }

  /**
   * Keeps the pipeline from ending while every camera's queue is finished (a camera being replaced
   * by a changed one); call the returned function when done.
   */
  hold(): () => void {
    return this.batcher.hold();
  }

  /**
   * Swaps the model's stages between two batches: every batch formed from now on is preprocessed,
   * inferred and fused by `stages`; batches already begun finish with the old ones. Resolves once
   * the last of those has finished (the old engine can then be closed), or the pipeline has ended.
   */
  swapModel(stages: ModelStageSet<TTensor, TEngineOut, TResult>, maxBatch?: number): Promise<void> {
    const old = this.model;
    if (maxBatch !== undefined) this.batcher.setMaxBatch(maxBatch);
    this.model = { stages, batches: 0 };
    if (old.batches === 0) return Promise.resolve();
    return Promise.race([new Promise<void>((resolve) => (old.retired = resolve)), this.done]);
  }

  /**
   * Suspends or resumes inspection of a camera (an operator's maintenance pause). While suspended,
   * a real-time source is still read and each frame is dropped as "suspended" (a live camera stays
   * drained, its state stays true); a source that waits to be read (folder, file) is paused instead,
   * losing nothing. Frames admitted before the call are inspected as usual.
   */
  setSuspended(cameraId: string, suspended: boolean): void {
    const cam = this.cameras.get(cameraId);
    if (!cam) throw new Error(`no camera "${cameraId}"`);
    cam.suspended = suspended;
    if (!suspended) {
      const wake = cam.resumed;
      cam.resumed = undefined;
      wake?.();
    }
  }

  /** Called with the camera id of every frame read from a source (before admission). */
  onCaptured(listener: (cameraId: string) => void): () => void {
    this.captureListeners.add(listener);
    return () => this.captureListeners.delete(listener);
  }

  cameraStates(): Record<string, SourceState> {
    return Object.fromEntries([...this.cameras].map(([id, c]) => [id, c.state]));
  }

  stats(): PipelineStats {
    return {
      queued: Object.fromEntries([...this.cameras].map(([id, c]) => [id, c.queue.size])),
      batchesInFlight: this.batchesInFlight,
      processed: this.processed,
    };
  }

  /** Listener-style access for code that does not use RxJS. Returns the unsubscribe function. */
  onState(listener: (e: SourceStateEvent) => void): () => void {
    const s = this.states$.subscribe(listener);
    return () => s.unsubscribe();
  }

  onResult(listener: (o: FrameOutcome<TDecision>) => void): () => void {
    const s = this.results$.subscribe(listener);
    return () => s.unsubscribe();
  }

  private createCamera(config: CameraConfig): Camera {
    const source = this.make(config);
    const a = config.admission;
    const queue = new AdmissionQueue<FrameJob>(
      {
        policy: a.policy,
        capacity: a.queueSize,
        everyNth: a.everyNth,
        staleMs: a.staleMs,
        realtime: source.source.realtime,
      },
      (job) => job.frame.capturedAtMono,
      (job, reason) => this.dropJob(job, reason),
      () => this.batcher.signal.notify(),
    );
    const camera: Camera = {
      config,
      source,
      queue,
      state: source.state,
      suspended: false,
      removed: false,
      outstanding: 0,
    };
    source.onState((e) => {
      camera.state = e.state;
      // a removed camera's closing is no news: the service forgets it
      if (!camera.removed) this.stateSubject.next(e);
    });
    source.onDropped?.((reason, detail, trigger) =>
      this.drops.record({
        cameraId: config.id,
        reason,
        detail,
        ...(trigger && { triggerId: trigger.id, partId: trigger.partId }),
      }),
    );
    return camera;
  }

  private async pump(cam: Camera): Promise<void> {
    const { queue } = cam;
    const src = cam.source.source;
    try {
      await src.open();
      while (!this.stopRequested && !cam.removed) {
        // a source that answers at once (a folder in cache, an unpaced synthetic line) must not
        // keep the event loop in microtasks: timers (MQTT keepalive, drain deadline) need turns
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (queue.blocking) await queue.space();
        // a source that waits to be read is paused while suspended (a trigger camera is read only
        // for triggers, which the service answers itself while the camera is suspended)
        if (cam.suspended && !src.realtime && !cam.source.trigger)
          await new Promise<void>((resolve) => (cam.resumed = resolve));
        if (this.stopRequested || cam.removed) break;
        const frame = await src.read();
        if (!frame) break;
        // the pipeline knows the camera; a source need not (supervised ones set it too)
        frame.cameraId = cam.config.id;
        this.captured(cam.config.id);
        const job: FrameJob = {
          frame,
          camera: cam.config,
          timings: { wait: performance.now() - frame.capturedAtMono },
          queuedAtMono: performance.now(),
        };
        if (cam.suspended) {
          this.dropJob(job, 'suspended');
          continue;
        }
        if (!this.admit(cam, job)) break;
      }
    } catch (err) {
      this.log.error({ err, camera: cam.config.id }, `camera ${cam.config.id}: source failed for good`);
    } finally {
      queue.close();
      this.batcher.signal.notify();
    }
  }

  /** Offers a job, waiting for space on a blocking queue; false when the queue was closed (stop). */
  private admit(cam: Camera, job: FrameJob): boolean {
    const { queue } = cam;
    if (queue.closed) {
      this.dropJob(job, 'shutdown');
      return false;
    }
    job.queuedAtMono = performance.now();
    // the pump waited for space before reading, so a blocking queue has room: 'full' cannot happen
    // unless stop() closed it meanwhile
    // counted before the offer: a latest-wins queue may drop it (replaced) inside offer()
    cam.outstanding++;
    this.admittedBy.set(job, cam);
    if (queue.offer(job) === 'full') {
      this.dropJob(job, 'shutdown');
      return false;
    }
    return true;
  }

  /** An admitted frame left the pipeline (published or dropped): a removed camera may be done. */
  private left(job: FrameJob): void {
    const cam = this.admittedBy.get(job);
    if (!cam) return;
    this.admittedBy.delete(job);
    if (--cam.outstanding === 0 && cam.idle) {
      const idle = cam.idle;
      cam.idle = undefined;
      idle();
    }
  }

  private async infer(jobs: FrameJob[]): Promise<Inferred<TTensor, TEngineOut, TResult>> {
    // the model is chosen once per batch, before its first frame is preprocessed (swapModel)
    const model = this.model;
    model.batches++;
    this.batchesInFlight++;
    for (const j of jobs) this.inFlight.add(j);
    const start = performance.now();
    const tensors: TTensor[] = [];
    const ok: FrameJob[] = [];
    const pre = await Promise.all(
      jobs.map(async (job) => {
        job.timings.queue = start - job.queuedAtMono;
        const t0 = performance.now();
        try {
          const t = await model.stages.preprocess(job.frame, job.camera);
          job.timings.preprocess = performance.now() - t0;
          return { job, t, ok: true as const };
        } catch (err) {
          this.fail(job, 'preprocess-error', err);
          return { job, ok: false as const };
        }
      }),
    );
    for (const p of pre) {
      if (p.ok) {
        ok.push(p.job);
        tensors.push(p.t);
      }
    }
    if (ok.length === 0) return { jobs: [], model };
    const e0 = performance.now();
    try {
      const out = await model.stages.engine(tensors, ok);
      const ms = performance.now() - e0;
      for (const j of ok) j.timings.engine = ms;
      return { jobs: ok, out, model };
    } catch (err) {
      for (const j of ok) this.fail(j, 'engine-error', err);
      return { jobs: [], model };
    }
  }

  private async finish(r: Inferred<TTensor, TEngineOut, TResult>): Promise<void> {
    try {
      if (r.jobs.length === 0 || this.abandoned) return;
      const h0 = performance.now();
      let results: TResult[];
      try {
        results = await r.model.stages.hsf(r.out as TEngineOut, r.jobs);
        if (!Array.isArray(results) || results.length !== r.jobs.length)
          throw new Error(
            `hsf returned ${Array.isArray(results) ? results.length : typeof results} results for ${r.jobs.length} frames`,
          );
      } catch (err) {
        for (const j of r.jobs) this.fail(j, 'hsf-error', err);
        return;
      }
      const hsfMs = performance.now() - h0;
      for (let i = 0; i < r.jobs.length; i++) {
        if (this.abandoned) return;
        const job = r.jobs[i];
        job.timings.hsf = hsfMs;
        await this.decideAndPublish(job, results[i], r.jobs.length);
      }
    } finally {
      this.batchesInFlight--;
      const m = r.model;
      if (--m.batches === 0 && m !== this.model) m.retired?.();
    }
  }

  private async decideAndPublish(job: FrameJob, result: TResult, batchSize: number): Promise<void> {
    const t = job.timings;
    let decision: TDecision;
    const d0 = performance.now();
    try {
      decision = await this.o.stages.decide(result, job);
    } catch (err) {
      this.fail(job, 'decide-error', err);
      return;
    }
    const decidedAtMono = performance.now();
    t.decide = decidedAtMono - d0;
    try {
      await this.o.stages.publish(decision, job);
    } catch (err) {
      this.fail(job, 'publish-error', err);
      return;
    }
    const publishedAtMono = performance.now();
    t.publish = publishedAtMono - decidedAtMono;
    t.total = publishedAtMono - job.frame.capturedAtMono;
    this.processed++;
    this.inFlight.delete(job);
    this.left(job);
    const f = job.frame;
    const outcome: FrameOutcome<TDecision> = {
      cameraId: f.cameraId,
      seq: f.seq,
      partId: f.partId,
      triggerId: f.triggerId,
      capturedAtMono: f.capturedAtMono,
      capturedAtWall: f.capturedAtWall,
      decidedAtMono,
      publishedAtMono,
      batchSize,
      timings: t,
      decision,
    };
    if (this.release) releaseFrame(f);
    try {
      this.resultSubject.next(outcome);
    } catch (err) {
      this.log.warn({ err }, 'a result listener failed');
    }
  }

  private captured(cameraId: string): void {
    for (const l of this.captureListeners) {
      try {
        l(cameraId);
      } catch (err) {
        this.log.warn({ err }, 'a capture listener failed');
      }
    }
  }

  private fail(job: FrameJob, reason: DropReason, err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    this.log.warn(
      { camera: job.frame.cameraId, seq: job.frame.seq, err: e },
      `frame dropped (${reason}): ${e.message}`,
    );
    this.dropJob(job, reason, e.message);
  }

  private dropJob(job: FrameJob, reason: DropReason, detail?: string): void {
    this.inFlight.delete(job);
    this.left(job);
    this.recordDrop(job, reason, detail);
    if (this.release) releaseFrame(job.frame);
  }

  /** Counts a frame's drop, naming its trigger when it was a part's. */
  private recordDrop(job: FrameJob, reason: DropReason, detail?: string): void {
    const f = job.frame;
    this.drops.record({
      cameraId: f.cameraId || job.camera.id,
      reason,
      seq: f.seq,
      detail,
      ...(f.triggerId !== undefined && { triggerId: f.triggerId, partId: f.partId }),
    });
  }

  private async doStop(): Promise<StopReport> {
    if (!this.started) {
      await Promise.all([...this.cameras.values()].map((c) => c.source.source.close()));
      this.resolveDone();
      return { drained: true, abandoned: 0 };
    }
    this.stopRequested = true;
    // a pump paused for a suspended camera must see the stop
    for (const c of this.cameras.values()) c.resumed?.();
    this.log.info({}, 'pipeline stopping: closing sources, draining admitted frames');
    await Promise.all([...this.cameras.values()].map((c) => c.source.source.close().catch(() => undefined)));
    // closing the queues wakes pumps waiting for room; what is queued can still be taken
    for (const c of this.cameras.values()) c.queue.close();
    this.batcher.signal.notify();
    await Promise.all(this.pumps);
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      this.done.then(() => true),
      new Promise<boolean>(
        (resolve) => (timer = setTimeout(() => resolve(false), this.o.settings.shutdownDrainMs)),
      ),
    ]);
    clearTimeout(timer);
    if (drained) return { drained: true, abandoned: 0 };
    this.abandoned = true;
    this.batcher.stop();
    let abandoned = 0;
    for (const c of this.cameras.values()) abandoned += c.queue.dropAll('shutdown');
    for (const job of [...this.inFlight]) {
      abandoned++;
      // the engine may still hold this frame's tensor: count it, but leave its pixels to the GC
      this.inFlight.delete(job);
      this.recordDrop(job, 'shutdown');
    }
    this.subscription?.unsubscribe();
    this.resolveDone();
    this.log.warn({ abandoned }, `pipeline stopped before the drain finished: ${abandoned} frames abandoned`);
    return { drained: false, abandoned };
  }
}

/** Creates a pipeline; call start() to run it and stop() to shut it down. */
export function createPipeline<TTensor, TEngineOut, TResult, TDecision>(
  o: PipelineOptions<TTensor, TEngineOut, TResult, TDecision>,
): Pipeline<TTensor, TEngineOut, TResult, TDecision> {
  return new Pipeline(o);
}
