// The state directory: everything the service writes lives under `stateDir` (the outbox, the
// Sparkplug bdSeq, the history, review copies, snapshots), so one writable folder is all a
// deployment has to provide (`/var/lib/adaclip-edge` in every shipped one). A relative `stateDir`
// resolves against the config file's folder, never the working directory (which a service manager
// may not let the service write, or even choose); a relative state path resolves against `stateDir`.
import { resolve } from 'node:path';
import type { Config } from './schema.js';

/** The state paths, by config key: what resolveStatePaths resolves and the start check tests. */
export const STATE_PATH_KEYS = [
  'mqtt.outbox.path',
  'mqtt.sparkplug.bdSeqFile',
  'history.path',
  'history.reviewsDir',
  'snapshots.dir',
] as const;
export type StatePathKey = (typeof STATE_PATH_KEYS)[number];

/** Makes `stateDir` absolute (against `baseDir`) and every state path absolute (against stateDir). */
export function resolveStatePaths(cfg: Config, baseDir: string): Config {
  const stateDir = resolve(baseDir, cfg.stateDir);
  cfg.stateDir = stateDir;
  const under = (p: string) => resolve(stateDir, p);
  if (cfg.mqtt.outbox.path !== ':memory:') cfg.mqtt.outbox.path = under(cfg.mqtt.outbox.path);
  cfg.mqtt.sparkplug.bdSeqFile = under(cfg.mqtt.sparkplug.bdSeqFile);
  cfg.history.path = under(cfg.history.path);
  cfg.history.reviewsDir = under(cfg.history.reviewsDir);
  cfg.snapshots.dir = under(cfg.snapshots.dir);
  return cfg;
}
