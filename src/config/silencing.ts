// Settings that would silence a camera while it keeps running: an image threshold no score can
// pass, a pixel threshold no map value can pass, regions that could never be big enough, a k-of-n
// window that can never fill, a cooldown of hours. Refused, at start and at run time from every door,
// unless the camera's config says `allowDisable: true`: switching detection off is then a decision
// written in the config, not something a message on the network can do. (Suspending a camera is the
// operators' way to pause it: bounded, recorded and visible.)

/** Longest cooldown between two alarms of a camera without allowDisable. */
export const MAX_COOLDOWN_MS = 3_600_000;

export interface SilencingCheck {
  thresholds: { image: number; pixel: number; minRegionAreaPct: number };
  decision?: { k: number; n: number; cooldownMs: number };
}

export interface SilencingProblem {
  /** The camera key, e.g. `thresholds.image`. */
  key: string;
  problem: string;
}

/** What in these settings would silence the camera (empty when nothing would). */
export function silencingProblems(s: SilencingCheck): SilencingProblem[] {
  const out: SilencingProblem[] = [];
  const { image, pixel, minRegionAreaPct } = s.thresholds;
  if (image >= 1)
    out.push({
      key: 'thresholds.image',
      problem: `${image} would silence the camera: image scores lie in [0, 1], so (almost) no frame would ever be anomalous`,
    });
  if (pixel >= 1)
    out.push({
      key: 'thresholds.pixel',
      problem: `${pixel} would silence the camera's regions: map values lie in [0, 1], so no defect region would ever be found`,
    });
  if (minRegionAreaPct >= 100)
    out.push({
      key: 'thresholds.minRegionAreaPct',
      problem: `${minRegionAreaPct} would silence the camera's regions: a region would have to cover the whole inspected area`,
    });
  const d = s.decision;
  if (d && d.k > d.n)
    out.push({
      key: 'decision.k',
      problem: `${d.k} of n = ${d.n} frames can never happen: no alarm would ever be raised`,
    });
  if (d && d.cooldownMs > MAX_COOLDOWN_MS)
    out.push({
      key: 'decision.cooldownMs',
      problem: `${d.cooldownMs} ms would silence the camera for more than an hour after each alarm (at most ${MAX_COOLDOWN_MS})`,
    });
  return out;
}
