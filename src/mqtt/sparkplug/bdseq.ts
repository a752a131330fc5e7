// The birth/death sequence number (bdSeq): 0-255, incremented on every MQTT connect, and persisted so
// a restarted process never reuses the number of its previous session (a host would otherwise match
// a stale NDEATH to the new NBIRTH). A file that cannot be written (full disk, read-only state
// directory) must not stop the node: the number still advances in memory, and the failure is
// reported to the caller (logged and counted), since a restart could then reuse a number.
import { mkdirSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { dirname } from 'node:path';

export interface NextBdSeq {
  value: number;
  /** Set when the value could not be stored: it is used anyway. */
  error?: Error;
}

export class BdSeqStore {
  /** The last value handed out, when the file could not take it (the file lags behind then). */
  private unstored?: number;

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

  /** Takes the next bdSeq and stores it durably before the caller connects with it; never throws. */
  next(): NextBdSeq {
    const prev = this.unstored ?? this.last();
    const value = prev === undefined ? 0 : (prev + 1) % 256;
    try {
      this.store(value);
      this.unstored = undefined;
      return { value };
    } catch (err) {
      this.unstored = value;
      return {
        value,
        error: new Error(
          `cannot store the Sparkplug bdSeq in ${this.file} (mqtt.sparkplug.bdSeqFile): ${(err as Error).message}`,
        ),
      };
    }
  }

  private store(value: number): void {
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
  }
}
