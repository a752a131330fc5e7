// Per-camera suspension: an operator pauses a camera for maintenance, until resumed or for a
// duration. A suspended camera inspects nothing and raises nothing; a trigger camera answers each
// trigger with verdict error, reason "suspended" (the PLC must not take silence for a pass). Kept in
// the history, so a restart does not quietly resume a camera under maintenance; an expired one is
// resumed at start. Every change goes to `changed` (pipeline, state topics, Sparkplug, live page).
import type { HistoryStore } from '../history/history-store.js';
import type { StoredSuspension } from '../history/types.js';
import { actorOf, allowAll, OperatorError, type ActionOrigin, type Authorise } from './types.js';

export type Suspension = StoredSuspension;

/** The longest suspension asked for at once: 30 days. */
export const MAX_SUSPENSION_S = 30 * 24 * 3600;

export class Suspensions {
  private readonly active = new Map<string, Suspension>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly cameraIds: readonly string[],
    private readonly deps: {
      history?: HistoryStore;
      /** Called after every change: the suspension now in force, or undefined once resumed. */
      changed: (cameraId: string, s: Suspension | undefined) => void;
      authorise?: Authorise;
      now?: () => number;
      log?: (obj: object, msg: string) => void;
    },
  ) {}

  /** Applies the suspensions a previous run left (resuming those that expired meanwhile). */
  restore(): void {
    for (const s of this.deps.history?.suspensions() ?? []) {
      if (!this.cameraIds.includes(s.cameraId)) {
        this.deps.history?.clearSuspension(s.cameraId);
        continue;
      }
      if (s.until !== undefined && Date.parse(s.until) <= this.now()) {
        this.deps.history?.clearSuspension(s.cameraId);
        this.deps.log?.({ camera: s.cameraId, until: s.until }, 'suspension expired while stopped: resumed');
        continue;
      }
      this.apply(s);
      this.deps.log?.({ camera: s.cameraId, until: s.until ?? 'resumed by hand' }, 'camera still suspended');
    }
  }

  get(cameraId: string): Suspension | undefined {
    const s = this.active.get(cameraId);
    return s && { ...s };
  }

  isSuspended(cameraId: string): boolean {
    return this.active.has(cameraId);
  }

  /** Suspends (or re-suspends, replacing the duration) a camera; durationS absent: until resumed. */
  suspend(cameraId: string, o: { durationS?: number; comment?: string }, origin: ActionOrigin): Suspension {
    this.check(cameraId);
    if (o.durationS !== undefined && !(o.durationS > 0 && o.durationS <= MAX_SUSPENSION_S))
      throw new OperatorError(
        400,
        `durationS: must be in (0, ${MAX_SUSPENSION_S}] seconds, got ${o.durationS}`,
      );
    (this.deps.authorise ?? allowAll)('suspend', cameraId, origin);
    const now = this.now();
    const s: Suspension = {
      cameraId,
      since: new Date(now).toISOString(),
      ...(o.durationS !== undefined && { until: new Date(now + o.durationS * 1000).toISOString() }),
      by: actorOf(origin),
      door: origin.door,
      ...(o.comment !== undefined && o.comment.length > 0 && { comment: o.comment }),
    };
    this.deps.history?.setSuspension(s);
    this.apply(s);
    return { ...s };
  }

  /** Resumes a camera; false when it was not suspended (nothing changed). */
  resume(cameraId: string, origin: ActionOrigin): boolean {
    this.check(cameraId);
    (this.deps.authorise ?? allowAll)('resume', cameraId, origin);
    if (!this.active.has(cameraId)) return false;
    this.end(cameraId, `resumed by ${actorOf(origin)}`);
    return true;
  }

  /** A camera removed by a reload: its suspension (if any) goes with it, unannounced. */
  forget(cameraId: string): void {
    clearTimeout(this.timers.get(cameraId));
    this.timers.delete(cameraId);
    if (this.active.delete(cameraId)) this.deps.history?.clearSuspension(cameraId);
  }

  /** Stops the expiry timers (the suspensions stay stored for the next start). */
  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private apply(s: Suspension): void {
    clearTimeout(this.timers.get(s.cameraId));
    this.timers.delete(s.cameraId);
    this.active.set(s.cameraId, s);
    if (s.until !== undefined) {
      // setTimeout holds at most 2^31-1 ms (24.8 days): longer ones wait in steps
      const wait = Math.min(Date.parse(s.until) - this.now(), 2 ** 31 - 1);
      const t = setTimeout(
        () => {
          this.timers.delete(s.cameraId);
          if (Date.parse(s.until!) <= this.now()) this.end(s.cameraId, 'suspension expired');
          else this.apply(s);
        },
        Math.max(0, wait),
      );
      t.unref();
      this.timers.set(s.cameraId, t);
    }
    this.deps.changed(s.cameraId, { ...s });
  }

  private end(cameraId: string, why: string): void {
    clearTimeout(this.timers.get(cameraId));
    this.timers.delete(cameraId);
    this.active.delete(cameraId);
    this.deps.history?.clearSuspension(cameraId);
    this.deps.log?.({ camera: cameraId }, why);
    this.deps.changed(cameraId, undefined);
  }

  private check(cameraId: string): void {
    if (!this.cameraIds.includes(cameraId))
      throw new OperatorError(
        404,
        `no camera ${JSON.stringify(cameraId)} (known: ${this.cameraIds.join(', ')})`,
      );
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }
}
