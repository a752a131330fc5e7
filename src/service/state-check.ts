// The start-up check of the state directory: before the model loads, every folder the service will
// write (stateDir and the folders of the state paths its enabled parts use) is created if needed and
// a file is written, synced and removed there. A folder it cannot write stops the start with the
// key to change, instead of a failure minutes later (the outbox at the first event, the bdSeq at
// the first reconnect) or a service that runs and keeps nothing.
import { closeSync, fsyncSync, mkdirSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../config/schema.js';

export class StateDirError extends Error {
  override name = 'StateDirError';
}

/** The folders to check, each with the config key that places it. */
export function stateFolders(cfg: Config): { key: string; dir: string }[] {
  const out = [{ key: 'stateDir', dir: cfg.stateDir }];
  if (cfg.mqtt.outbox.path !== ':memory:')
    out.push({ key: 'mqtt.outbox.path', dir: dirname(cfg.mqtt.outbox.path) });
  if (cfg.mqtt.sparkplug.enabled)
    out.push({ key: 'mqtt.sparkplug.bdSeqFile', dir: dirname(cfg.mqtt.sparkplug.bdSeqFile) });
  if (cfg.history.enabled) {
    out.push({ key: 'history.path', dir: dirname(cfg.history.path) });
    out.push({ key: 'history.reviewsDir', dir: cfg.history.reviewsDir });
  }
  if (cfg.snapshots.enabled) out.push({ key: 'snapshots.dir', dir: cfg.snapshots.dir });
  return out;
}

/** Throws StateDirError naming the key of the first folder that cannot be written. */
export function checkStateFolders(cfg: Config): void {
  const checked = new Set<string>();
  for (const { key, dir } of stateFolders(cfg)) {
    if (checked.has(dir)) continue;
    checked.add(dir);
    const probe = join(dir, `.adaclip-edge-write-check-${process.pid}`);
    try {
      mkdirSync(dir, { recursive: true });
      const fd = openSync(probe, 'w');
      try {
        writeSync(fd, 'ok\n');
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      unlinkSync(probe);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      const which = key === 'stateDir' ? 'stateDir' : `${key} (or stateDir, which it lies under by default)`;
      throw new StateDirError(
        `${key}: cannot write in ${dir} (${code}): set ${which} to a folder this service may write, e.g. /var/lib/adaclip-edge`,
      );
    }
  }
}
