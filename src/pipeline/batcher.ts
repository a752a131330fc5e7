// Forms engine batches across cameras: waits for a first frame, then up to batchDeadlineMs for more,
// up to the engine's maximum batch. Takes round-robin across cameras so that a busy camera cannot
// starve the others, and only when asked (the pipeline asks when an engine slot is free): frames
// wait in the bounded admission queues, where the latest-wins policy keeps them fresh.
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
  private readonly now: () => number;

  constructor(
    private readonly queues: readonly AdmissionQueue<T>[],
    private readonly o: BatcherOptions,
  ) {
    if (!Number.isInteger(o.maxBatch) || o.maxBatch < 1)
      throw new Error(`maxBatch must be an integer >= 1, got ${o.maxBatch}`);
    this.now = o.now ?? (() => performance.now());
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

  private fill(batch: T[]): void {
    const n = this.queues.length;
    let tookInRound = true;
    while (batch.length < this.o.maxBatch && tookInRound) {
      tookInRound = false;
      for (let k = 0; k < n && batch.length < this.o.maxBatch; k++) {
        const q = this.queues[(this.rr + k) % n];
        const item = q.take(this.now());
        if (item !== undefined) {
          batch.push(item);
          tookInRound = true;
        }
      }
      // the next round (and the next batch) starts with the camera after the first one served
      this.rr = (this.rr + 1) % Math.max(1, n);
    }
  }

  private allFinished(): boolean {
    return this.queues.every((q) => q.finished);
  }
}
