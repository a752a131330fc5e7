// The birth/death sequence number (bdSeq): 0-255, incremented on every MQTT connect, and persisted so
// a restarted process never reuses the number of its previous session (a host would otherwise match
// a stale NDEATH to the new NBIRTH).
import { mkdirSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { dirname } from 'node:path';

export class BdSeqStore {
  constructor(private readonly file: string) {}

  /** The last bdSeq used, or undefined when none was stored (or the file is unreadable). */
  last(): number | undefined {
    try {
      const v = JSON.parse(readFileSync(this.file, 'utf8')) as { bdSeq?: unknown };
      return typeof v.bdSeq === 'number' && Number.isInteger(v.bdSeq) && v.bdSeq >= 0 && v.bdSeq <= 255
        ? v.bdSeq
        : undefined;
    } catch {
      return undefined;
    }
  }

  /** Takes the next bdSeq and stores it durably before the caller connects with it. */
  next(): number {
    const prev = this.last();
    const value = prev === undefined ? 0 : (prev + 1) % 256;
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ bdSeq: value }) + '\n');
    const fd = openSync(tmp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
    return value;
  }
}
