// Exponential backoff with jitter for reopening a failed source: many cameras that fail together
// (a switch reboots) must not all retry in the same millisecond.

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** 0..1: each delay is scaled by a random factor in [1 - jitter, 1 + jitter]. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000, jitter: 0.2 };

/** Delay before attempt number `failures` (1 = after the first failure). */
export function backoffDelay(
  failures: number,
  o: BackoffOptions,
  random: () => number = Math.random,
): number {
  const exp = o.initialMs * 2 ** Math.max(0, failures - 1);
  const base = Math.min(o.maxMs, exp);
  const factor = 1 + o.jitter * (random() * 2 - 1);
  return Math.max(0, Math.round(base * factor));
}
