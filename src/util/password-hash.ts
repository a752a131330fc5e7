// Password hashes for the dashboard's users: scrypt (node:crypto), written as a PHC-style string
// `$scrypt$ln=15,r=8,p=1$<salt>$<hash>` (base64 without padding), so the cost travels with the hash
// and can be raised later without breaking stored ones. `adaclip-edge hash-password` makes one.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** The form the config accepts; parseHash() checks the numbers. */
export const PASSWORD_HASH_PATTERN =
  /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{16,})\$([A-Za-z0-9+/]{43,})$/;

export const DEFAULT_COST = { ln: 15, r: 8, p: 1 };
const KEY_LEN = 32;
const LIMITS = { ln: [10, 20], r: [1, 32], p: [1, 16] } as const;

export interface ParsedHash {
  ln: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

export class PasswordHashError extends Error {
  override name = 'PasswordHashError';
}

/** Parses a stored hash; throws PasswordHashError saying what was expected. */
export function parseHash(text: string): ParsedHash {
  const m = PASSWORD_HASH_PATTERN.exec(text);
  if (!m)
    throw new PasswordHashError(
      'a password hash of the form $scrypt$ln=15,r=8,p=1$<salt>$<hash> (make one with `adaclip-edge hash-password`)',
    );
  const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  for (const [key, v] of [
    ['ln', ln],
    ['r', r],
    ['p', p],
  ] as const) {
    const [lo, hi] = LIMITS[key];
    if (v < lo || v > hi) throw new PasswordHashError(`scrypt ${key} within ${lo}..${hi} (got ${v})`);
  }
  return { ln, r, p, salt: Buffer.from(m[4], 'base64'), hash: Buffer.from(m[5], 'base64') };
}

/** A new hash of `password` with a random salt. */
export async function hashPassword(password: string, cost = DEFAULT_COST): Promise<string> {
  if (password.length === 0) throw new PasswordHashError('the password is empty');
  const salt = randomBytes(16);
  const hash = await derive(password, salt, cost, KEY_LEN);
  const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');
  return `$scrypt$ln=${cost.ln},r=${cost.r},p=${cost.p}$${b64(salt)}$${b64(hash)}`;
}

/** Whether `password` matches the stored hash (constant time in the hash's length). */
export async function verifyPassword(password: string, stored: ParsedHash): Promise<boolean> {
  const got = await derive(password, stored.salt, stored, stored.hash.length);
  return timingSafeEqual(got, stored.hash);
}

function derive(
  password: string,
  salt: Buffer,
  c: { ln: number; r: number; p: number },
  keyLen: number,
): Promise<Buffer> {
  const N = 2 ** c.ln;
  // scrypt needs 128 * N * r bytes; node refuses above maxmem (32 MiB by default)
  const options: ScryptOptions = { N, r: c.r, p: c.p, maxmem: 128 * N * c.r + 1024 * 1024 };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, keyLen, options, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}
