// The start-up check of the state directory: before the model loads, every folder the service will
// write (stateDir and the folders of the state paths its enabled parts use) is created if needed and
// a file is written, synced and removed there. A folder it cannot write stops the start with the
// key to change, instead of a failure minutes later (the outbox at the first event, the bdSeq at
// the first reconnect) or a service that runs and keeps nothing.
//
// `adaclip-edge doctor` runs the same check without changing anything (inspectStateFolders): an
// existing folder gets the same probe file, a missing one is not created (a doctor run as root would
// leave a folder the service's own user cannot write) but its nearest existing parent must be a
// folder this user may write; it adds the free space and what the outbox on disk holds.
import {
  accessSync,
  closeSync,
  constants,
  fsyncSync,
  mkdirSync,
  openSync,
  statSync,
  statfsSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../config/schema.js';
import { inspectOutboxFile, type OutboxFileSummary } from '../mqtt/outbox.js';

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

/** Writes, syncs and removes a small file in the existing folder `dir`: what the service does there. */
function probeWrite(dir: string): void {
  const probe = join(dir, `.adaclip-edge-write-check-${process.pid}`);
  const fd = openSync(probe, 'w');
  try {
    writeSync(fd, 'ok\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  unlinkSync(probe);
}

/** The error code of a failed file operation (EACCES, ENOTDIR, EROFS, ...), else its message. */
function codeOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

/** Why a state folder cannot be used, naming the key to change (the start's message, and doctor's). */
export function stateFolderProblem(key: string, dir: string, code: string): string {
  const which = key === 'stateDir' ? 'stateDir' : `${key} (or stateDir, which it lies under by default)`;
  return `${key}: cannot write in ${dir} (${code}): set ${which} to a folder this service may write, e.g. /var/lib/adaclip-edge`;
}

/** Throws StateDirError naming the key of the first folder that cannot be written. */
export function checkStateFolders(cfg: Config): void {
  const checked = new Set<string>();
  for (const { key, dir } of stateFolders(cfg)) {
    if (checked.has(dir)) continue;
    checked.add(dir);
    try {
      mkdirSync(dir, { recursive: true });
      probeWrite(dir);
    } catch (err) {
      throw new StateDirError(stateFolderProblem(key, dir, codeOf(err)));
    }
  }
}

/**
 * Disk space per outbox document, for stateSpaceNeeded: measured 2.0 KiB per document (file and
 * write-ahead log) for the full example event of docs/events.md (1.8 KB of JSON); twice that leaves
 * room for events with more regions.
 */
export const OUTBOX_BYTES_PER_DOCUMENT = 4096;

/**
 * Free space that a state directory should keep at least: what the config lets the service store
 * there by its own limits, so that neither a full snapshot store nor a broker outage long enough to
 * fill the outbox runs the disk full (then no event could be made durable). Snapshots:
 * `snapshots.maxBytes`; the outbox: `mqtt.outbox.maxEvents` documents at OUTBOX_BYTES_PER_DOCUMENT.
 * The history is bounded by rows and age, not bytes, so it is not counted. Defaults: 512 MiB +
 * 100,000 x 4 KiB = 902.6 MiB.
 */
export function stateSpaceNeeded(cfg: Config): number {
  const snapshots = cfg.snapshots.enabled ? cfg.snapshots.maxBytes : 0;
  const outbox =
    cfg.mqtt.outbox.path === ':memory:' ? 0 : cfg.mqtt.outbox.maxEvents * OUTBOX_BYTES_PER_DOCUMENT;
  return snapshots + outbox;
}

export interface StateInspection {
  stateDir: string;
  /** The first folder that cannot be written, as the start would report it; undefined when none. */
  problem?: string;
  /** When stateDir does not exist yet: the nearest existing folder above it (the start creates it). */
  createdUnder?: string;
  /** Bytes free to this user on stateDir's file system (of its nearest existing folder). */
  freeBytes?: number;
  /** stateSpaceNeeded(cfg). */
  neededBytes: number;
  /** The outbox file: undefined with mqtt.outbox.path ':memory:'. */
  outbox?: { path: string } & (
    { exists: false } | ({ exists: true } & OutboxFileSummary) | { error: string }
  );
}

/** The nearest existing ancestor of `dir` (or `dir`); throws ENOTDIR when that is not a folder. */
function nearestExisting(dir: string): { path: string; exists: boolean } {
  let p = dir;
  for (;;) {
    try {
      const st = statSync(p);
      if (!st.isDirectory()) throw Object.assign(new Error(`${p} is not a folder`), { code: 'ENOTDIR' });
      return { path: p, exists: p === dir };
    } catch (err) {
      if (codeOf(err) !== 'ENOENT') throw err;
      const up = dirname(p);
      if (up === p) throw err;
      p = up;
    }
  }
}

/**
 * The start's check without side effects beyond a probe file in existing folders: whether each
 * state folder exists and can be written by this user, or can be created; the free space; and
 * whether the outbox file there (if any) can be read.
 */
export function inspectStateFolders(cfg: Config): StateInspection {
  const out: StateInspection = { stateDir: cfg.stateDir, neededBytes: stateSpaceNeeded(cfg) };
  const checked = new Set<string>();
  for (const { key, dir } of stateFolders(cfg)) {
    if (checked.has(dir)) continue;
    checked.add(dir);
    try {
      const at = nearestExisting(dir);
      if (at.exists) probeWrite(dir);
      else accessSync(at.path, constants.W_OK | constants.X_OK);
      if (key === 'stateDir') {
        if (!at.exists) out.createdUnder = at.path;
        const fs = statfsSync(at.path);
        out.freeBytes = fs.bavail * fs.bsize;
      }
    } catch (err) {
      out.problem ??= stateFolderProblem(key, dir, codeOf(err));
    }
  }
  const path = cfg.mqtt.outbox.path;
  if (path !== ':memory:') {
    try {
      statSync(path);
      out.outbox = { path, exists: true, ...inspectOutboxFile(path) };
    } catch (err) {
      const code = codeOf(err);
      out.outbox =
        code === 'ENOENT' || code === 'ENOTDIR'
          ? { path, exists: false }
          : { path, error: (err as Error).message };
    }
  }
  return out;
}
