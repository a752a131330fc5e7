// Forms engine batches across cameras: waits for a first frame, then up to batchDeadlineMs for more,
// up to the engine's maximum batch. Shares the batch round-robin across cameras so that a busy camera
// cannot starve the others, and only when asked (the pipeline asks when an engine slot is free):
// frames wait in the bounded admission queues, where the latest-wins policy keeps them fresh, and
// a latest-wins camera contributes its newest frames.
import type { AdmissionQueue } from '../admit/admission-queue.js';
import { Signal } from './signal.js';

export interface BatcherOptions {
  maxBatch: number;
  deadlineMs: number;
  now?: () => number;
}

export class Batcher<T> {
  readonly signal = new Signal();
  private rr = 0;
  private stopped = false;
  /** While above 0, finished queues do not end the batcher (a camera is being replaced). */
  private holds = 0;
  private readonly queues: AdmissionQueue<T>[];
  private readonly now: () => number;

  constructor(
    queues: readonly AdmissionQueue<T>[],
    private readonly o: BatcherOptions,
  ) {
    checkMaxBatch(o.maxBatch);
    this.queues = [...queues];
    this.now = o.now ?? (() => performance.now());
  }

  /** A camera added at run time: its queue takes part in the next batches. */
  add(queue: AdmissionQueue<T>): void {
    this.queues.push(queue);
    this.signal.notify();
  }

  /** A removed camera's queue (finished: closed and taken empty). */
  remove(queue: AdmissionQueue<T>): void {
    const i = this.queues.indexOf(queue);
    if (i >= 0) this.queues.splice(i, 1);
    this.signal.notify();
  }

  /**
   * Keeps next() from ending while every queue is finished, until the returned function is called:
   * a camera being replaced must not end the pipeline between its old and new source.
   */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      this.signal.notify();
    };
  }

  /** A new model's maximum batch, for the batches formed from now on. */
  setMaxBatch(maxBatch: number): void {
    checkMaxBatch(maxBatch);
    this.o.maxBatch = maxBatch;
  }

  /** Makes next() return null from now on (shutdown). */
  stop(): void {
    this.stopped = true;
    this.signal.notify();
  }

  /** The next batch, or null when every queue is closed and empty (or the batcher was stopped). */
  async next(): Promise<T[] | null> {
    const batch: T[] = [];
    while (batch.length === 0) {
      if (this.stopped) return null;
      this.fill(batch);
      if (batch.length > 0) break;
      if (this.allFinished()) return null;
      await this.signal.wait();
    }
    const deadline = this.now() + this.o.deadlineMs;
    while (batch.length < this.o.maxBatch && !this.stopped && !this.allFinished()) {
      const remaining = deadline - this.now();
      if (remaining <= 0) break;
      await this.signal.wait(remaining);
      this.fill(batch);
    }
    return batch;
  }

  /**
   * Shares the room left in the batch among the cameras with queued frames, one frame per camera per
   * round (round-robin, starting with a different camera each time), then takes each camera's share
   * (its freshest frames under latest-wins). Frames dropped as stale free their place for another.
   */
  private fill(batch: T[]): void {
    const n = this.queues.length;
    if (n === 0) return;
    for (;;) {
      const room = this.o.maxBatch - batch.length;
      if (room <= 0) return;
      const share = new Array<number>(n).fill(0);
      let assigned = 0;
      for (let progress = true; progress && assigned < room;) {
        progress = false;
        for (let k = 0; k < n && assigned < room; k++) {
          const i = (this.rr + k) % n;
          if (share[i] < this.queues[i].size) {
            share[i]++;
            assigned++;
            progress = true;
          }
        }
      }
      if (assigned === 0) return;
      let took = 0;
      for (let k = 0; k < n; k++) {
        const i = (this.rr + k) % n;
        if (share[i] === 0) continue;
        const items = this.queues[i].takeUpTo(share[i], this.now());
        for (const item of items) batch.push(item);
        took += items.length;
      }
      this.rr = (this.rr + 1) % n;
      if (took === assigned) return;
    }
  }

  private allFinished(): boolean {
    return this.holds === 0 && this.queues.every((q) => q.finished);
  }
}

function checkMaxBatch(maxBatch: number): void {
  if (!Number.isInteger(maxBatch) || maxBatch < 1)
    throw new Error(`maxBatch must be an integer >= 1, got ${maxBatch}`);
}
