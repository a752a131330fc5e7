// Temporal filter of per-frame verdicts into alarms: an alarm is raised when k of the last n frames
// reach the image threshold (and the cooldown since the previous raise has passed); an active alarm
// clears when fewer than k of the last n frames reach the clear threshold (hysteresis: clear <= image).
export type Transition = 'raise' | 'clear';

export interface TemporalConfig {
  k: number;
  n: number;
  /** Minimum time between two raises, in ms (measured on the clock the caller passes). */
  cooldownMs: number;
}

export interface TemporalStep {
  transition?: Transition;
  /** Alarm state after this frame. */
  active: boolean;
  /** Frames in the window at or above the threshold that applies now (image when idle, clear when active). */
  hits: number;
  /** True when the window asked for a raise but the cooldown held it back. */
  suppressedByCooldown: boolean;
}

export function validateTemporalConfig(cfg: TemporalConfig): void {
  if (!Number.isInteger(cfg.n) || cfg.n < 1)
    throw new RangeError(`decision.n must be an integer >= 1, got ${cfg.n}`);
  if (!Number.isInteger(cfg.k) || cfg.k < 1 || cfg.k > cfg.n)
    throw new RangeError(`decision.k must be an integer in [1, n=${cfg.n}], got ${cfg.k}`);
  if (!(cfg.cooldownMs >= 0)) throw new RangeError(`decision.cooldownMs must be >= 0, got ${cfg.cooldownMs}`);
}

export class TemporalFilter {
  private readonly window: number[] = [];
  private active = false;
  private lastRaiseAt = -Infinity;

  constructor(private readonly cfg: TemporalConfig) {
    validateTemporalConfig(cfg);
  }

  get isActive(): boolean {
    return this.active;
  }

  /** Feeds one frame's image score; `nowMs` should be monotonic. */
  step(score: number, nowMs: number, imageThreshold: number, clearThreshold: number): TemporalStep {
    this.window.push(score);
    if (this.window.length > this.cfg.n) this.window.shift();
    if (!this.active) {
      const hits = this.count(imageThreshold);
      if (hits < this.cfg.k) return { active: false, hits, suppressedByCooldown: false };
      if (nowMs - this.lastRaiseAt < this.cfg.cooldownMs)
        return { active: false, hits, suppressedByCooldown: true };
      this.active = true;
      this.lastRaiseAt = nowMs;
      return { transition: 'raise', active: true, hits, suppressedByCooldown: false };
    }
    const hits = this.count(clearThreshold);
    if (hits >= this.cfg.k) return { active: true, hits, suppressedByCooldown: false };
    this.active = false;
    return { transition: 'clear', active: false, hits, suppressedByCooldown: false };
  }

  /** Forgets the window and any active alarm (for a camera that restarts); the cooldown clock stays. */
  reset(): void {
    this.window.length = 0;
    this.active = false;
  }

  private count(threshold: number): number {
    let c = 0;
    for (const s of this.window) if (s >= threshold) c++;
    return c;
  }
}
