// Who may do what on the dashboard, enforced for every route in two hooks:
//   onRequest:     Host check, Origin check of a state change, the session (cookie), the route's role
//                  (401 not signed in, 403 a viewer asking an operator's action);
//   preValidation: the CSRF token of a state change (x-csrf-token header, or the _csrf form field).
// Modes (dashboard.auth): `users` (sign in with dashboard.users; with no users configured the
// dashboard is read-only and every state change answers 401) and `none` (the demo: anyone acts,
// a banner says so; state changes still need the page's CSRF token and a same-site Origin).
// A route declares config.role (viewer, operator); without one, GET/HEAD need a viewer and
// anything else an operator. config.public skips every check (probes, the page's static files),
// config.signIn only the session and role (the sign-in form).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseHash, verifyPassword, type ParsedHash } from '../../util/password-hash.js';
import type { DashboardUser, Role } from '../routes/http.js';
import { readCookie, SESSION_COOKIE } from './cookies.js';
import { LoginThrottle } from './login-throttle.js';
import { RequestGuard } from './request-guard.js';
import { SessionStore, type Session } from './sessions.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** No check at all: probes, metrics, static files. */
    public?: boolean;
    /** Host and Origin checks only: the sign-in form. */
    signIn?: boolean;
    /** A page: a visitor not signed in is sent to /login instead of answered 401. */
    page?: boolean;
  }
  interface FastifyRequest {
    session?: Session;
  }
}

export interface AccessConfig {
  auth: 'users' | 'none';
  users: { name: string; role: Role; passwordHash: string }[];
  session: { ttlH: number; idleMin: number; max: number; secureCookie: boolean };
  allowedHosts: string[];
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
// checked against when the user name is unknown, so that the answer takes as long as for a known one
const DUMMY_HASH = parseHash(
  '$scrypt$ln=15,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
);

export class Access {
  readonly mode: 'users' | 'none';
  /** Users mode without users: everyone reads, nobody acts. */
  readonly readOnly: boolean;
  readonly sessions: SessionStore;
  readonly throttle = new LoginThrottle();
  readonly secureCookie: boolean;
  readonly sessionMaxAgeS: number;
  private readonly guard: RequestGuard;
  private readonly users = new Map<string, { role: Role; hash: ParsedHash }>();
  /** The demo's (auth: none) CSRF token, the same for every page of this process. */
  private readonly openCsrf = randomBytes(32).toString('base64url');

  constructor(cfg: AccessConfig) {
    this.mode = cfg.auth;
    for (const u of cfg.users) this.users.set(u.name, { role: u.role, hash: parseHash(u.passwordHash) });
    this.readOnly = this.mode === 'users' && this.users.size === 0;
    this.sessions = new SessionStore({
      ttlMs: cfg.session.ttlH * 3_600_000,
      idleMs: cfg.session.idleMin * 60_000,
      max: cfg.session.max,
    });
    this.sessionMaxAgeS = cfg.session.ttlH * 3600;
    this.secureCookie = cfg.session.secureCookie;
    this.guard = new RequestGuard(cfg.allowedHosts);
  }

  /** Sign-in is offered: users mode with at least one user. */
  get signInEnabled(): boolean {
    return this.mode === 'users' && !this.readOnly;
  }

  /** The user when the name and password match, else undefined (same work either way). */
  async checkPassword(name: string, password: string): Promise<DashboardUser | undefined> {
    const u = this.users.get(name);
    const ok = await verifyPassword(password, u?.hash ?? DUMMY_HASH);
    return u && ok ? { name, role: u.role } : undefined;
  }

  /** The CSRF token the page of this request sends with its state changes, if it may make any. */
  csrfFor(req: FastifyRequest): string | undefined {
    return this.mode === 'none' ? this.openCsrf : req.session?.csrf;
  }

  /** What the page may do for this request's visitor. */
  canAct(req: FastifyRequest): boolean {
    return this.mode === 'none' || req.session?.user.role === 'operator';
  }

  /** The two hooks, on the root instance so that they see every route. */
  install(app: FastifyInstance): void {
    app.decorateRequest('session', undefined);
    app.decorateRequest('user', undefined);
    app.addHook('onRequest', async (req, reply) => this.onRequest(req, reply));
    app.addHook('preValidation', async (req, reply) => this.checkCsrf(req, reply));
  }

  private async onRequest(req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const cfg = req.routeOptions.config ?? {};
    if (cfg.public) return undefined;
    const host = this.guard.hostRefusal(req.headers.host);
    if (host) return reply.code(403).send({ error: host });
    const unsafe = !SAFE_METHODS.has(req.method);
    if (unsafe) {
      const cross = this.guard.crossSiteRefusal({
        host: req.headers.host,
        origin: header(req, 'origin'),
        secFetchSite: header(req, 'sec-fetch-site'),
      });
      if (cross) return reply.code(403).send({ error: cross });
    }
    const session = this.sessions.get(readCookie(req.headers.cookie, SESSION_COOKIE));
    if (session) {
      req.session = session;
      req.user = session.user;
    }
    if (cfg.signIn || this.mode === 'none') return undefined;
    const need: Role = cfg.role ?? (unsafe ? 'operator' : 'viewer');
    if (need === 'viewer') return this.readOnly || session ? undefined : this.notSignedIn(req, reply);
    if (this.readOnly)
      return reply.code(401).send({
        error: 'the dashboard is read-only: no users are configured (dashboard.users)',
      });
    if (!session) return this.notSignedIn(req, reply);
    if (session.user.role !== 'operator')
      return reply.code(403).send({
        error: `${session.user.name} is a viewer: only an operator may do this`,
      });
    return undefined;
  }

  private notSignedIn(req: FastifyRequest, reply: FastifyReply): FastifyReply {
    if (req.routeOptions.config?.page && req.method === 'GET')
      return reply.redirect(`/login?next=${encodeURIComponent(req.url)}`, 303);
    return reply.code(401).send({ error: 'sign in first (POST /login)' });
  }

  private async checkCsrf(req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const cfg = req.routeOptions.config ?? {};
    if (cfg.public || cfg.signIn || SAFE_METHODS.has(req.method)) return undefined;
    const body = req.body as Record<string, unknown> | null | undefined;
    let got = header(req, 'x-csrf-token');
    if (body && typeof body === 'object' && '_csrf' in body) {
      if (got === undefined && typeof body._csrf === 'string') got = body._csrf;
      delete body._csrf;
    }
    const expected = this.csrfFor(req);
    if (!expected || !got || !sameText(got, expected))
      return reply.code(403).send({
        error: 'missing or wrong CSRF token (send the x-csrf-token header the page gives)',
      });
    return undefined;
  }
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
