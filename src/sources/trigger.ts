// External trigger: a PLC, an MQTT message or an HTTP call says a part is in front of the lens;
// the next frame of the inner source is captured for it and carries its part id and trigger id.
// A live inner source (a camera stream) is drained continuously, so that "the next frame" is one
// captured after the trigger and not a stale one from the driver's buffer.
import { randomUUID } from 'node:crypto';
import type { Frame } from './frame.js';
import type { FrameSource, Triggerable } from './source.js';
import { releaseFrame } from './supervisor.js';

export interface TriggerSourceOptions {
  /** Triggers waiting for a frame at most; more are rejected (and counted). */
  maxPending?: number;
  /** Called for a rejected trigger (the pipeline counts it as a "trigger-rejected" drop). */
  onRejected?: (partId: string | undefined, reason: string) => void;
}

interface PendingTrigger {
  id: string;
  partId?: string;
  atMono: number;
}

export class TriggerRejectedError extends Error {}

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

  constructor(
    private readonly inner: FrameSource,
    private readonly o: TriggerSourceOptions = {},
  ) {
    this.maxPending = o.maxPending ?? 32;
  }

  /** Asks for the next frame; returns the trigger id the frame will carry. */
  trigger(partId?: string): string {
    if (partId !== undefined && (typeof partId !== 'string' || partId.length === 0 || partId.length > 256))
      throw new TriggerRejectedError(
        `partId must be a string of 1..256 characters, got ${JSON.stringify(partId)}`,
      );
    if (this.closed) throw new TriggerRejectedError('trigger source is closed');
    if (this.pending.length >= this.maxPending) {
      const reason = `${this.pending.length} triggers already waiting (maxPending ${this.maxPending})`;
      this.o.onRejected?.(partId, reason);
      throw new TriggerRejectedError(`trigger rejected: ${reason}`);
    }
    const t: PendingTrigger = { id: randomUUID(), partId, atMono: performance.now() };
    this.pending.push(t);
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
        const t = this.pending[0];
        const frame = await this.inner.read();
        if (!frame) return null;
        this.pending.shift();
        if (this.closed) {
          releaseFrame(frame);
          return null;
        }
        return tag(frame, t);
      }
      await new Promise<void>((resolve) => (this.wakeReader = resolve));
    }
    return null;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake();
    await this.inner.close();
    await this.draining;
    for (const c of this.captured.splice(0)) releaseFrame(c.frame);
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
