// Event and alarm ids: ULIDs (26 chars, Crockford base32, time-ordered). The monotonic factory keeps
// ids strictly increasing within the process even when several events share a millisecond, so
// subscribers can sort and de-duplicate by id alone.
import { monotonicFactory, decodeTime, isValid } from 'ulidx';

const next = monotonicFactory();

export const ULID_PATTERN = '^[0-9A-HJKMNP-TV-Z]{26}$';

export function newEventId(nowMs: number = Date.now()): string {
  return next(nowMs);
}

export function isEventId(id: string): boolean {
  return new RegExp(ULID_PATTERN).test(id) && isValid(id);
}

/** Wall-clock milliseconds encoded in an id. */
export function eventIdTime(id: string): number {
  return decodeTime(id);
}
