// Paces reads to a frame rate, like a camera's shutter: if the reader falls behind, the schedule
// restarts from now instead of bursting to catch up (a camera does not deliver missed frames later).
import { setTimeout as delay } from 'node:timers/promises';

export class Pacer {
  private next: number | undefined;
  private readonly intervalMs: number;

  constructor(fps: number) {
    if (!(fps > 0)) throw new Error(`fps must be > 0, got ${fps}`);
    this.intervalMs = 1000 / fps;
  }

  /** Waits for the next slot; resolves false if aborted. */
  async wait(signal?: AbortSignal): Promise<boolean> {
    const now = performance.now();
    if (this.next === undefined || this.next < now - this.intervalMs) this.next = now;
    const waitMs = this.next - now;
    this.next += this.intervalMs;
    if (waitMs > 0.5) {
      try {
        await delay(waitMs, undefined, { signal });
      } catch {
        return false;
      }
    }
    return !signal?.aborted;
  }
}

/** Sleeps ms; resolves false (instead of throwing) when the signal aborts first. */
export async function sleepUnlessAborted(ms: number, signal?: AbortSignal): Promise<boolean> {
  try {
    await delay(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}
