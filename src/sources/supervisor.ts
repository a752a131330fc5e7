// Keeps one camera's source alive: opens it, notices errors, end-of-stream on a live stream and
// stalls (no frame within stallTimeoutMs), and reopens it with exponential backoff and jitter. The
// camera's state (online, stalled, reconnecting, offline) goes to listeners (MQTT, dashboard,
// metrics). read() never throws: it returns the next frame, or null once the source has ended
// (a finite file or folder) or was closed.
import type { Frame } from './frame.js';
import type { FrameSource, SourceState, SourceStateEvent } from './source.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { sleepUnlessAborted } from './pacer.js';
import { redactSecrets } from '../util/redact.js';

export interface SupervisorOptions {
  cameraId: string;
  /** No frame within this many ms of asking is a stall (omit for sources that wait on purpose). */
  stallTimeoutMs?: number;
  reconnect?: BackoffOptions;
  /** After this many consecutive failed attempts the camera is reported offline (retries go on). */
  offlineAfterFailures?: number;
  /** Injected for tests. */
  random?: () => number;
  /** Errors worth a log line (the state events carry the short reason). */
  onError?: (err: Error, context: string) => void;
  /**
   * Open the source in open() rather than at the first read. For sources read only on demand (a
   * trigger camera waits for its first part): their state is then true from the start, and a
   * camera that cannot be opened is reported before the first part arrives.
   */
  openEagerly?: boolean;
}

type ReadOutcome =
  { kind: 'frame'; frame: Frame | null } | { kind: 'error'; error: Error } | { kind: 'stall' };

export class SupervisedSource implements FrameSource {
  readonly realtime: boolean;
  readonly live: boolean;
  private inner: FrameSource | undefined;
  private currentState: SourceState = 'offline';
  private readonly listeners = new Set<(e: SourceStateEvent) => void>();
  private failures = 0;
  private nextSeq = 0;
  private closed = false;
  private readonly abort = new AbortController();
  private readonly reconnect: BackoffOptions;

  /** `create` makes a fresh, unopened source: each (re)open starts from a new instance. */
  constructor(
    private readonly create: () => FrameSource,
    private readonly o: SupervisorOptions,
  ) {
    const probe = create();
    this.realtime = probe.realtime;
    this.live = probe.live;
    this.inner = probe;
    this.reconnect = o.reconnect ?? DEFAULT_BACKOFF;
  }

  get state(): SourceState {
    return this.currentState;
  }

  get cameraId(): string {
    return this.o.cameraId;
  }

  /** Listen to state changes; returns the function that stops listening. */
  onState(listener: (e: SourceStateEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Opening happens in read(), with retries; open() only checks we were not closed, and with
   * openEagerly makes one attempt now (a failure is reported and retried by read()).
   */
  async open(): Promise<void> {
    if (this.closed) throw new Error(`camera ${this.o.cameraId}: source already closed`);
    if (this.o.openEagerly && this.currentState === 'offline' && (await this.openInner()))
      this.setState('online', 'opened (frames are read on demand)');
  }

  async read(): Promise<Frame | null> {
    let opened = this.currentState === 'online' || this.currentState === 'stalled';
    while (!this.closed) {
      if (!opened) {
        const ok = await this.openInner();
        if (!ok) continue;
        opened = true;
      }
      const outcome = await this.readInner();
      if (this.closed) {
        if (outcome.kind === 'frame' && outcome.frame) releaseFrame(outcome.frame);
        break;
      }
      if (outcome.kind === 'frame') {
        if (outcome.frame) {
          this.failures = 0;
          if (this.currentState !== 'online') this.setState('online', 'frame received');
          const frame = outcome.frame;
          frame.cameraId = this.o.cameraId;
          frame.seq = this.nextSeq++;
          return frame;
        }
        if (!this.live) {
          await this.shutInner();
          this.setState('offline', 'end of input');
          return null;
        }
        await this.failed('stream ended (no frame returned)');
      } else if (outcome.kind === 'error') {
        this.o.onError?.(outcome.error, 'read');
        await this.failed(`read failed: ${outcome.error.message}`);
      } else {
        this.setState('stalled', `no frame for ${this.o.stallTimeoutMs} ms`);
        await this.failed(`stalled: no frame for ${this.o.stallTimeoutMs} ms`);
      }
      opened = false;
    }
    return null;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    await this.shutInner();
    this.setState('offline', 'stopped');
  }

  private async openInner(): Promise<boolean> {
    const src = this.inner ?? this.create();
    this.inner = src;
    try {
      await src.open();
      return true;
    } catch (err) {
      this.o.onError?.(err as Error, 'open');
      await this.failed(`open failed: ${(err as Error).message}`);
      return false;
    }
  }

  private async readInner(): Promise<ReadOutcome> {
    const src = this.inner as FrameSource;
    const pending: Promise<ReadOutcome> = src.read().then(
      (frame) => ({ kind: 'frame', frame }),
      (error: unknown) => ({
        kind: 'error',
        error: error instanceof Error ? error : new Error(String(error)),
      }),
    );
    if (!this.o.stallTimeoutMs) return pending;
    let timer: NodeJS.Timeout | undefined;
    const stall = new Promise<ReadOutcome>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'stall' }), this.o.stallTimeoutMs);
    });
    const outcome = await Promise.race([pending, stall]);
    clearTimeout(timer);
    if (outcome.kind === 'stall') {
      // the stuck read may still complete: its frame is released and the source closed then
      this.inner = undefined;
      void pending.then(async (late) => {
        if (late.kind === 'frame' && late.frame) releaseFrame(late.frame);
        await src.close().catch(() => undefined);
      });
    }
    return outcome;
  }

  /** Closes the current source, reports the failure, and waits the backoff delay. */
  private async failed(reason: string): Promise<void> {
    await this.shutInner();
    this.failures++;
    const retryInMs = backoffDelay(this.failures, this.reconnect, this.o.random);
    const offline = this.failures >= (this.o.offlineAfterFailures ?? 3);
    this.setState(offline ? 'offline' : 'reconnecting', reason, { attempt: this.failures, retryInMs });
    await sleepUnlessAborted(retryInMs, this.abort.signal);
  }

  private async shutInner(): Promise<void> {
    const src = this.inner;
    this.inner = undefined;
    if (src) await src.close().catch((err: unknown) => this.o.onError?.(err as Error, 'close'));
  }

  private setState(
    state: SourceState,
    reason: string,
    extra: { attempt?: number; retryInMs?: number } = {},
  ): void {
    const changed = state !== this.currentState;
    this.currentState = state;
    // repeated reconnect attempts are reported too (attempt count, next delay), plain repeats are not
    if (!changed && extra.attempt === undefined) return;
    // the reason may quote the source's error, and OpenCV's errors quote the camera URI
    const event: SourceStateEvent = {
      cameraId: this.o.cameraId,
      state,
      at: Date.now(),
      reason: redactSecrets(reason),
      ...extra,
    };
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // a failing listener must not break the camera's recovery
      }
    }
  }
}

/** Frees the native pixel memory of a frame nobody will use (GC would, but much later). */
export function releaseFrame(frame: Frame): void {
  frame.image.release();
  frame.truthMask?.release();
}
