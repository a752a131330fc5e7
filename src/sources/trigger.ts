// External trigger: a PLC, an MQTT message or an HTTP call says a part is in front of the lens;
// the next frame of the inner source is captured for it and carries its part id and trigger id.
// A live inner source (a camera stream) is drained continuously, so that "the next frame" is one
// captured after the trigger and not a stale one from the driver's buffer.
//
// Every accepted trigger ends in exactly one of: a frame tagged with it, or a report through
// onUnanswered (no frame within captureTimeoutMs: the part has left the station, so a later frame
// must not be passed off as its picture; or the source closed first). A refused trigger throws.
import { randomUUID } from 'node:crypto';
import type { Frame } from './frame.js';
import type { FrameSource, Triggerable } from './source.js';
import { releaseFrame } from './supervisor.js';

/** A trigger as the rest of the service knows it. */
export interface TriggerRef {
  id: string;
  partId?: string;
}

/** Why an accepted trigger got no frame. */
export type UnansweredReason = 'trigger-timeout' | 'shutdown';

export interface TriggerSourceOptions {
  /** Triggers waiting for a frame at most; more are rejected (and counted). */
  maxPending?: number;
  /** A trigger that has no frame this long after it arrived is given up (default 5000 ms). */
  captureTimeoutMs?: number;
  /** Called for a rejected trigger (the pipeline counts it as a "trigger-rejected" drop). */
  onRejected?: (partId: string | undefined, reason: string) => void;
  /** Called for an accepted trigger that gets no frame (timeout, or the source closed). */
  onUnanswered?: (trigger: TriggerRef, reason: UnansweredReason, detail: string) => void;
  /** The inner camera's state, named in a timeout's detail ("camera reconnecting"). */
  innerState?: () => string;
}

interface PendingTrigger extends TriggerRef {
  atMono: number;
}

export class TriggerRejectedError extends Error {
  constructor(
    message: string,
    /** invalid: a bad part id; busy: too many triggers waiting; closed: the source has stopped. */
    readonly kind: 'invalid' | 'busy' | 'closed' = 'invalid',
  ) {
    super(message);
    this.name = 'TriggerRejectedError';
  }
}

export const DEFAULT_CAPTURE_TIMEOUT_MS = 5000;

export class TriggerSource implements FrameSource, Triggerable {
  /** Each trigger is a part: the pipeline pauses this source instead of dropping its frames. */
  readonly realtime = false;
  readonly live = false;
  private readonly pending: PendingTrigger[] = [];
  private wakeReader: (() => void) | undefined;
  private closed = false;
  private draining: Promise<void> | undefined;
  /** Live inner source: frames captured after the head trigger, waiting to be read. */
  private readonly captured: { frame: Frame; trigger: PendingTrigger }[] = [];
  private readonly maxPending: number;
  private readonly captureTimeoutMs: number;
  private timeoutTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly inner: FrameSource,
    private readonly o: TriggerSourceOptions = {},
  ) {
    this.maxPending = o.maxPending ?? 32;
    this.captureTimeoutMs = o.captureTimeoutMs ?? DEFAULT_CAPTURE_TIMEOUT_MS;
    if (!(this.captureTimeoutMs > 0))
      throw new Error(`trigger captureTimeoutMs must be > 0, got ${this.captureTimeoutMs}`);
  }

  /** Asks for the next frame; returns the trigger id the frame will carry. */
  trigger(partId?: string): string {
    if (partId !== undefined && (typeof partId !== 'string' || partId.length === 0 || partId.length > 256))
      throw new TriggerRejectedError(
        `partId must be a string of 1..256 characters, got ${JSON.stringify(partId)}`,
        'invalid',
      );
    if (this.closed) throw new TriggerRejectedError('trigger source is closed', 'closed');
    if (this.pending.length >= this.maxPending) {
      const reason = `${this.pending.length} triggers already waiting (maxPending ${this.maxPending})`;
      this.o.onRejected?.(partId, reason);
      throw new TriggerRejectedError(`trigger rejected: ${reason}`, 'busy');
    }
    const t: PendingTrigger = { id: randomUUID(), atMono: performance.now() };
    if (partId !== undefined) t.partId = partId;
    this.pending.push(t);
    this.armTimeout();
    this.wake();
    return t.id;
  }

  /** Triggers still waiting for their frame. */
  get waiting(): number {
    return this.pending.length + this.captured.length;
  }

  async open(): Promise<void> {
    await this.inner.open();
    if (this.inner.live) this.draining = this.drain();
  }

  async read(): Promise<Frame | null> {
    while (!this.closed) {
      if (this.inner.live) {
        const c = this.captured.shift();
        if (c) return tag(c.frame, c.trigger);
        if (!this.draining) return null; // the stream ended
      } else if (this.pending.length > 0) {
        const frame = await this.inner.read();
        if (!frame) return null;
        if (this.closed) {
          releaseFrame(frame);
          return null;
        }
        // the trigger this read was for may have timed out meanwhile: the frame belongs to the
        // trigger at the head now only if it was captured after that trigger arrived
        const head = this.pending[0];
        if (head && frame.capturedAtMono >= head.atMono) {
          this.pending.shift();
          return tag(frame, head);
        }
        releaseFrame(frame);
        continue;
      }
      await new Promise<void>((resolve) => (this.wakeReader = resolve));
    }
    return null;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timeoutTimer);
    this.timeoutTimer = undefined;
    this.wake();
    await this.inner.close();
    await this.draining;
    for (const t of this.pending.splice(0)) this.unanswered(t, 'shutdown', 'the source stopped first');
    for (const c of this.captured.splice(0)) {
      releaseFrame(c.frame);
      this.unanswered(c.trigger, 'shutdown', 'the source stopped before its frame was read');
    }
  }

  /** Live inner source: keep reading; hand frames captured after a trigger to that trigger. */
  private async drain(): Promise<void> {
    try {
      while (!this.closed) {
        const frame = await this.inner.read();
        if (!frame) break;
        const head = this.pending[0];
        if (head && frame.capturedAtMono >= head.atMono) {
          this.pending.shift();
          this.captured.push({ frame, trigger: head });
          this.wake();
        } else releaseFrame(frame);
      }
    } finally {
      this.draining = undefined;
      this.wake();
    }
  }

  /** One timer for the oldest waiting trigger (all share the same timeout, so it expires first). */
  private armTimeout(): void {
    if (this.timeoutTimer || this.closed || this.pending.length === 0) return;
    const due = this.pending[0].atMono + this.captureTimeoutMs - performance.now();
    this.timeoutTimer = setTimeout(() => this.expire(), Math.max(0, due));
    this.timeoutTimer.unref();
  }

  private expire(): void {
    this.timeoutTimer = undefined;
    const now = performance.now();
    while (this.pending.length > 0 && now - this.pending[0].atMono >= this.captureTimeoutMs) {
      const t = this.pending.shift() as PendingTrigger;
      const state = this.o.innerState?.();
      this.unanswered(
        t,
        'trigger-timeout',
        `no frame within ${this.captureTimeoutMs} ms of the trigger${state ? ` (camera ${state})` : ''}`,
      );
    }
    this.armTimeout();
  }

  private unanswered(t: PendingTrigger, reason: UnansweredReason, detail: string): void {
    try {
      this.o.onUnanswered?.(
        { id: t.id, ...(t.partId !== undefined && { partId: t.partId }) },
        reason,
        detail,
      );
    } catch {
      // a failing listener must not stop the camera
    }
  }

  private wake(): void {
    const w = this.wakeReader;
    this.wakeReader = undefined;
    w?.();
  }
}

function tag(frame: Frame, t: PendingTrigger): Frame {
  frame.triggerId = t.id;
  frame.triggeredAtMono = t.atMono;
  if (t.partId !== undefined) frame.partId = t.partId;
  return frame;
}
