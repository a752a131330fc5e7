// Signed-in sessions, in memory: a random token (the cookie) maps to the user, its role and its
// CSRF token. Bounded: at most `max` sessions (the least recently used one goes first), each ended
// after `ttlMs` from sign-in or `idleMs` unused. A restart signs everyone out, which is acceptable
// for a station's dashboard and keeps no secret on disk.
import { createHash, randomBytes } from 'node:crypto';
import type { DashboardUser } from '../routes/http.js';

export interface Session {
  user: DashboardUser;
  /** Sent back in the x-csrf-token header (or the _csrf form field) of every state change. */
  csrf: string;
  createdAt: number;
  lastSeenAt: number;
}

export class SessionStore {
  /** Keyed by the SHA-256 of the token: a heap dump shows no usable cookie. Map order = LRU order. */
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly o: { ttlMs: number; idleMs: number; max: number },
    private readonly now: () => number = Date.now,
  ) {}

  /** A new session for the user; returns its token (the cookie's value). */
  create(user: DashboardUser): { token: string; session: Session } {
    this.sweep();
    while (this.sessions.size >= this.o.max) {
      const oldest = this.sessions.keys().next().value as string;
      this.sessions.delete(oldest);
    }
    const token = randomBytes(32).toString('base64url');
    const at = this.now();
    const session: Session = {
      user,
      csrf: randomBytes(32).toString('base64url'),
      createdAt: at,
      lastSeenAt: at,
    };
    this.sessions.set(key(token), session);
    return { token, session };
  }

  /** The live session of a token (its idle time restarts), or undefined. */
  get(token: string | undefined): Session | undefined {
    if (!token || token.length > 100) return undefined;
    const k = key(token);
    const s = this.sessions.get(k);
    if (!s) return undefined;
    const at = this.now();
    if (this.expired(s, at)) {
      this.sessions.delete(k);
      return undefined;
    }
    s.lastSeenAt = at;
    this.sessions.delete(k);
    this.sessions.set(k, s);
    return s;
  }

  delete(token: string | undefined): void {
    if (token) this.sessions.delete(key(token));
  }

  get size(): number {
    return this.sessions.size;
  }

  private expired(s: Session, at: number): boolean {
    return at - s.createdAt >= this.o.ttlMs || at - s.lastSeenAt >= this.o.idleMs;
  }

  private sweep(): void {
    const at = this.now();
    for (const [k, s] of this.sessions) if (this.expired(s, at)) this.sessions.delete(k);
  }
}

const key = (token: string) => createHash('sha256').update(token).digest('base64url');
