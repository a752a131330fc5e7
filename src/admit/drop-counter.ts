// Counts dropped frames by camera and reason, and tells listeners (metrics) about each drop.
import { DROP_REASONS, type DropReason } from './drop-reasons.js';

export interface DropEvent {
  cameraId: string;
  reason: DropReason;
  /** Sequence number of the dropped frame, when there was one (not for rejected triggers). */
  seq?: number;
  detail?: string;
  /** Set when the frame, or the trigger that got no frame, was a part's (trigger cameras). */
  triggerId?: string;
  partId?: string;
}

export type DropCounts = Record<DropReason, number>;

export function emptyDropCounts(): DropCounts {
  return Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as DropCounts;
}

export class DropCounter {
  private readonly byCamera = new Map<string, DropCounts>();
  private readonly listeners = new Set<(e: DropEvent) => void>();

  record(event: DropEvent): void {
    let counts = this.byCamera.get(event.cameraId);
    if (!counts) {
      counts = emptyDropCounts();
      this.byCamera.set(event.cameraId, counts);
    }
    counts[event.reason]++;
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // a failing listener (metrics, logging) must not stop the counting or the pipeline
      }
    }
  }

  /** Listen to every drop; returns the function that stops listening. */
  onDrop(listener: (e: DropEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Counts of one camera (all zero for a camera that never dropped anything). */
  counts(cameraId: string): DropCounts {
    return { ...(this.byCamera.get(cameraId) ?? emptyDropCounts()) };
  }

  /** Counts of every camera that dropped something, by camera id. */
  snapshot(): Record<string, DropCounts> {
    return Object.fromEntries([...this.byCamera].map(([id, c]) => [id, { ...c }]));
  }

  total(reason?: DropReason): number {
    let n = 0;
    for (const c of this.byCamera.values()) {
      if (reason) n += c[reason];
      else for (const r of DROP_REASONS) n += c[r];
    }
    return n;
  }
}
