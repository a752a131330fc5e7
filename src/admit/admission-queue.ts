// The bounded queue between one camera's source and the batcher, with the camera's admission policy.
// Pure (no timers, no streams): the clock is passed in, so the policies are tested exactly.
//
// - latest (default for live cameras): when full, the oldest queued frame makes room for the new
//   one ("replaced-by-newer"); frames older than staleMs when taken are dropped ("stale").
// - every-nth: only every Nth offered frame is admitted ("every-nth"), then as latest.
// - keep-all (folders, offline runs): never drops; when full the producer waits (space()), so the
//   source is paused instead.
// A source that is not real-time (a folder or video file without fps: frames come as fast as they
// are read) is always paused rather than dropped, whatever the policy: nothing is lost by waiting.
import type { DropReason } from './drop-reasons.js';

export type AdmissionPolicy = 'latest' | 'keep-all' | 'every-nth';

export interface AdmissionOptions {
  policy: AdmissionPolicy;
  /** Frames held at most (>= 1). */
  capacity: number;
  /** For every-nth: admit one frame in this many (>= 1). */
  everyNth: number;
  /** Staleness budget in ms (latest and every-nth on real-time sources only). */
  staleMs: number;
  /** True when the source produces frames at its own pace (camera, stream, synthetic line). */
  realtime: boolean;
}

export type OfferResult = 'queued' | 'replaced' | 'skipped' | 'full';

export class AdmissionQueue<T> {
  private readonly items: T[] = [];
  private readonly spaceWaiters: (() => void)[] = [];
  private offered = 0;
  private closedFlag = false;
  /** True when a full queue makes the producer wait (keep-all, or a source that can be paused). */
  readonly blocking: boolean;

  constructor(
    readonly options: AdmissionOptions,
    private readonly capturedAt: (item: T) => number,
    private readonly onDrop: (item: T, reason: DropReason) => void,
    /** Called after an item was queued (wakes the batcher). */
    private readonly onQueued: () => void = () => undefined,
  ) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1)
      throw new Error(`admission queue capacity must be an integer >= 1, got ${options.capacity}`);
    if (!Number.isInteger(options.everyNth) || options.everyNth < 1)
      throw new Error(`admission everyNth must be an integer >= 1, got ${options.everyNth}`);
    this.blocking = options.policy === 'keep-all' || !options.realtime;
  }

  get size(): number {
    return this.items.length;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Closed by its producer and emptied by the consumer: nothing more will come. */
  get finished(): boolean {
    return this.closedFlag && this.items.length === 0;
  }

  hasSpace(): boolean {
    return this.items.length < this.options.capacity;
  }

  /**
   * Offers a frame. 'full' only happens on a blocking queue: the frame was not taken, wait for
   * space() and offer it again. 'skipped' and 'replaced' have already reported their drop.
   */
  offer(item: T): OfferResult {
    if (this.closedFlag) throw new Error('offer() on a closed admission queue');
    if (this.options.policy === 'every-nth') {
      const n = this.offered++;
      if (n % this.options.everyNth !== 0) {
        this.onDrop(item, 'every-nth');
        return 'skipped';
      }
    }
    let result: OfferResult = 'queued';
    if (this.items.length >= this.options.capacity) {
      if (this.blocking) {
        // every-nth selection already happened: undo the count so the retry is judged the same way
        if (this.options.policy === 'every-nth') this.offered--;
        return 'full';
      }
      this.onDrop(this.items.shift() as T, 'replaced-by-newer');
      result = 'replaced';
    }
    this.items.push(item);
    this.onQueued();
    return result;
  }

  /** Removes and returns the oldest frame that is still fresh, dropping stale ones on the way. */
  take(nowMono: number): T | undefined {
    while (this.items.length > 0) {
      const item = this.items.shift() as T;
      if (!this.blocking && nowMono - this.capturedAt(item) > this.options.staleMs) {
        this.onDrop(item, 'stale');
        continue;
      }
      this.wakeProducer();
      return item;
    }
    this.wakeProducer();
    return undefined;
  }

  /**
   * Takes up to `count` frames, oldest first. A dropping queue (latest, every-nth) hands out its
   * newest frames and drops the older ones as replaced-by-newer: the batch has room for `count`
   * frames of this camera now, and by the next batch newer ones will have arrived. A blocking
   * queue (keep-all, paused source) hands out its oldest frames: it loses nothing.
   */
  takeUpTo(count: number, nowMono: number): T[] {
    if (!this.blocking) {
      while (this.items.length > count) this.onDrop(this.items.shift() as T, 'replaced-by-newer');
    }
    const out: T[] = [];
    while (out.length < count) {
      const item = this.take(nowMono);
      if (item === undefined) break;
      out.push(item);
    }
    return out;
  }

  /** Resolves once there is room for one more frame (or the queue was closed). */
  space(): Promise<void> {
    if (this.hasSpace() || this.closedFlag) return Promise.resolve();
    return new Promise((resolve) => this.spaceWaiters.push(resolve));
  }

  /** The producer is done; queued frames can still be taken. */
  close(): void {
    this.closedFlag = true;
    this.wakeProducer(true);
  }

  /** Drops every queued frame with the given reason (shutdown). */
  dropAll(reason: DropReason): number {
    const n = this.items.length;
    for (const item of this.items.splice(0)) this.onDrop(item, reason);
    this.wakeProducer();
    return n;
  }

  private wakeProducer(all = false): void {
    while (this.spaceWaiters.length > 0 && (all || this.hasSpace()))
      (this.spaceWaiters.shift() as () => void)();
  }
}
