// Worker threads that run slices of the SIMD kernels on a shared WebAssembly memory. The caller
// stays synchronous: it publishes one task per worker, runs its own slice, then blocks on an
// Atomics counter until every worker is done (a frame is a few milliseconds of work, so a
// synchronous join is simpler than an async API and keeps Preprocessor.frameInto unchanged).
import { Worker } from 'node:worker_threads';
import type { WasmMemory, WasmModule } from './asm.js';

/** Control block layout (Int32 slots): generation, pending workers, stop flag, then per-worker args. */
const GEN = 0;
const PENDING = 1;
const STOP = 2;
const ARGS = 16;
export const ARG_SLOTS = 32;
/** How long the caller waits for a worker before failing the frame. */
const WORKER_TIMEOUT_MS = 10_000;

// Plain JS (eval'd worker): no file to resolve, so it runs the same under tsx and from dist/.
// Task 1: horizontal(7 i32 args); task 2: vertical on 3 planes: per plane 5 i32 args + 2 f32 args.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, index } = workerData;
const k = new WebAssembly.Instance(module, { env: { memory } }).exports;
const ctl = new Int32Array(control);
const base = ${ARGS} + index * ${ARG_SLOTS};
const a = new Int32Array(control, base * 4, ${ARG_SLOTS});
const f = new Float32Array(control, base * 4, ${ARG_SLOTS});
let seen = 0;
for (;;) {
  Atomics.wait(ctl, ${GEN}, seen);
  seen = Atomics.load(ctl, ${GEN});
  if (Atomics.load(ctl, ${STOP})) break;
  try {
    if (a[0] === 1) k.horizontal(a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
    else if (a[0] === 2)
      for (let p = 0; p < 3; p++) {
        const o = 1 + p * 7;
        k.vertical(a[o], a[o + 1], a[o + 2], a[o + 3], a[o + 4], f[o + 5], f[o + 6]);
      }
  } finally {
    if (Atomics.sub(ctl, ${PENDING}, 1) === 1) Atomics.notify(ctl, ${PENDING});
  }
}
`;

export class KernelThreads {
  private readonly workers: Worker[] = [];
  private readonly control: Int32Array;
  readonly args: Int32Array[];
  readonly fargs: Float32Array[];
  private closed = false;

  /** Starts `count` workers (besides the calling thread) running `module` on `memory`. */
  constructor(module: WasmModule, memory: WasmMemory, count: number) {
    const control = new SharedArrayBuffer((ARGS + count * ARG_SLOTS) * 4);
    this.control = new Int32Array(control);
    this.args = [];
    this.fargs = [];
    for (let i = 0; i < count; i++) {
      this.args.push(new Int32Array(control, (ARGS + i * ARG_SLOTS) * 4, ARG_SLOTS));
      this.fargs.push(new Float32Array(control, (ARGS + i * ARG_SLOTS) * 4, ARG_SLOTS));
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, memory, control, index: i } });
      w.unref(); // idle workers must not keep the process alive
      this.workers.push(w);
    }
  }

  get count(): number {
    return this.workers.length;
  }

  /**
   * Starts the tasks already written into args/fargs on every worker, runs `own` here, and returns
   * once all workers are done.
   */
  run(own: () => void): void {
    if (this.closed) throw new Error('preprocess worker threads were closed');
    const ctl = this.control;
    Atomics.store(ctl, PENDING, this.workers.length);
    Atomics.add(ctl, GEN, 1);
    Atomics.notify(ctl, GEN);
    let failure: unknown;
    try {
      own();
    } catch (err) {
      failure = err; // still wait for the workers: they write into the same memory
    }
    const deadline = Date.now() + WORKER_TIMEOUT_MS;
    for (let p = Atomics.load(ctl, PENDING); p !== 0; p = Atomics.load(ctl, PENDING)) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`preprocess worker threads did not finish within ${WORKER_TIMEOUT_MS} ms`);
      Atomics.wait(ctl, PENDING, p, left);
    }
    if (failure !== undefined) throw failure;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.control, STOP, 1);
    Atomics.add(this.control, GEN, 1);
    Atomics.notify(this.control, GEN);
    for (const w of this.workers) void w.terminate();
  }
}
