// What a reloaded config file changes in a running service (SIGHUP, the reload command): cameras
// added, removed or changed (each started or stopped alone, the others untouched), a new model
// (model.bundle, engine or HSF settings), and the settings that only a restart applies. The file is
// compared with the file as last applied, not with the live settings: a camera whose lines did not
// change keeps the class name and thresholds set at run time by commands.
import type { CameraConfig, Config } from '../config/schema.js';

export interface ReloadPlan {
  added: CameraConfig[];
  removed: string[];
  /** Cameras whose config changed: stopped (their admitted frames finished) and started again. */
  changed: CameraConfig[];
  /** model.* changed: the new model is loaded beside the running one and swapped in. */
  model: boolean;
  /** Keys that changed but take effect only at the next start (e.g. "mqtt.url"). */
  restartNeeded: string[];
}

/** Sections a reload never applies (the connections, stores and servers built at start). */
const RESTART_ONLY = [
  'site',
  'line',
  'log',
  'pipeline',
  'mqtt',
  'snapshots',
  'history',
  'dashboard',
] as const;

export function planReload(applied: Config, next: Config): ReloadPlan {
  const before = new Map(applied.cameras.map((c) => [c.id, c]));
  const after = new Map(next.cameras.map((c) => [c.id, c]));
  const plan: ReloadPlan = { added: [], removed: [], changed: [], model: false, restartNeeded: [] };
  for (const [id, cam] of after) {
    const old = before.get(id);
    if (!old) plan.added.push(cam);
    else if (!sameValue(old, cam)) plan.changed.push(cam);
  }
  for (const id of before.keys()) if (!after.has(id)) plan.removed.push(id);
  plan.model = !sameValue(applied.model, next.model);
  for (const key of RESTART_ONLY) plan.restartNeeded.push(...differences(applied[key], next[key], key));
  return plan;
}

/** Whether the plan changes anything that a reload applies. */
export function planChangesSomething(p: ReloadPlan): boolean {
  return p.added.length + p.removed.length + p.changed.length > 0 || p.model;
}

/** The dotted keys below `path` whose values differ (one level into objects). */
function differences(a: unknown, b: unknown, path: string): string[] {
  if (sameValue(a, b)) return [];
  if (isRecord(a) && isRecord(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].filter((k) => !sameValue(a[k], b[k])).map((k) => `${path}.${k}`);
  }
  return [path];
}

/** Deep equality of parsed config values (key order does not matter, array order does). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => sameValue(x, b[i]));
  }
  if (isRecord(a) && isRecord(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => sameValue(a[k], b[k]));
  }
  return false;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
