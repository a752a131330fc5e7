// Sign-in and sign-out: GET /login (the form), POST /login (form or JSON {user, password}; a new
// session and its cookie, never an old one reused), POST /logout, and GET /api/session (who is
// signed in, what the page may do, the CSRF token for its state changes).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { loginPage } from '../pages/other-pages.js';
import type { Logger } from '../../util/log.js';
import type { DashboardSource } from '../types.js';
import type { Access } from './access.js';
import { clearedSessionCookie, readCookie, SESSION_COOKIE, sessionCookie } from './cookies.js';

const loginBody = z.object({
  user: z.string().min(1).max(64),
  password: z.string().min(1).max(1024),
  next: z.string().max(2000).optional(),
});

/** Only a path on this site is followed after sign-in (never //other.host or a URL). */
function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])/.test(next) ? next : '/';
}

export async function authRoutes(
  app: FastifyInstance,
  deps: { access: Access; source: DashboardSource; logger: Logger },
) {
  const { access } = deps;
  const where = () => {
    const s = deps.source.status();
    return { site: s.site, line: s.line };
  };
  const wantsHtml = (req: FastifyRequest) => !String(req.headers['content-type'] ?? '').includes('json');
  const loginForm = (
    reply: FastifyReply,
    code: number,
    o: { error?: string; next?: string; user?: string },
  ) =>
    reply
      .code(code)
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(loginPage({ ...where(), ...o }).text);

  app.get('/login', { config: { signIn: true } }, async (req, reply) => {
    if (!access.signInEnabled) return reply.redirect('/', 303);
    return loginForm(reply, 200, { next: safeNext((req.query as { next?: unknown }).next) });
  });

  app.post('/login', { config: { signIn: true } }, async (req, reply) => {
    const html = wantsHtml(req);
    const fail = (code: number, error: string, o: { next?: string; user?: string } = {}) =>
      html ? loginForm(reply, code, { error, ...o }) : reply.code(code).send({ error });
    if (!access.signInEnabled)
      return fail(
        409,
        access.mode === 'none'
          ? 'sign-in is off (dashboard.auth: none)'
          : 'no users are configured (dashboard.users): the dashboard is read-only',
      );
    const b = loginBody.safeParse(req.body);
    if (!b.success) return fail(400, 'user and password are needed');
    const address = req.ip;
    const wait = access.throttle.waitS(address);
    if (wait > 0) {
      void reply.header('retry-after', String(wait));
      return fail(429, `too many failed sign-ins: try again in ${Math.ceil(wait / 60)} min`);
    }
    const next = safeNext(b.data.next);
    const user = await access.checkPassword(b.data.user, b.data.password);
    if (!user) {
      access.throttle.failed(address);
      deps.logger.warn({ user: b.data.user, address }, 'dashboard sign-in failed');
      return fail(401, 'wrong user name or password', { next, user: b.data.user });
    }
    access.throttle.succeeded(address);
    access.sessions.delete(readCookie(req.headers.cookie, SESSION_COOKIE));
    const { token, session } = access.sessions.create(user);
    void reply.header(
      'set-cookie',
      sessionCookie(token, { maxAgeS: access.sessionMaxAgeS, secure: access.secureCookie }),
    );
    deps.logger.info({ user: user.name, role: user.role }, 'dashboard sign-in');
    if (html) return reply.redirect(next, 303);
    return { ok: true, user: user.name, role: user.role, csrf: session.csrf };
  });

  app.post('/logout', { config: { role: 'viewer' } }, async (req, reply) => {
    access.sessions.delete(readCookie(req.headers.cookie, SESSION_COOKIE));
    void reply.header('set-cookie', clearedSessionCookie(access.secureCookie));
    if (wantsHtml(req)) return reply.redirect(access.signInEnabled ? '/login' : '/', 303);
    return { ok: true };
  });

  app.get('/api/session', { config: { role: 'viewer' } }, async (req) => ({
    auth: access.mode,
    readOnly: access.readOnly,
    canAct: access.canAct(req),
    ...(req.user && { user: req.user.name, role: req.user.role }),
    ...(access.csrfFor(req) && { csrf: access.csrfFor(req) }),
  }));
}
