// Access to the dashboard (src/dashboard/auth/) on the real DashboardServer over HTTP, with a stand-in
// for the service behind it: sign-in with scrypt hashes, the session cookie's flags, roles (401 not
// signed in, 403 a viewer acting), the CSRF token, the Origin and Host checks, the sign-in throttle,
// sign-out, the read-only mode without users, the demo mode (auth: none) with its banner, the
// probes that need nothing, security headers and the bound on live streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { DashboardServer, type DashboardOptions } from '../../src/dashboard/server.js';
import type { DashboardSource, ServiceStatus } from '../../src/dashboard/types.js';
import { createLogger } from '../../src/util/log.js';
import { hashPassword } from '../../src/util/password-hash.js';
import { stubDashboardSource } from '../helpers/dashboard-source.js';

const FAST = { ln: 10, r: 8, p: 1 };

function fakeSource(calls: string[]): DashboardSource {
  const status = (): ServiceStatus => ({
    site: 'plant',
    line: 'l1',
    startedAt: new Date(0).toISOString(),
    model: {
      bundle: 'b',
      provenance: 'checkpoint',
      untrained: false,
      backend: 'onnxruntime (cpu)',
      hsf: 'cpu',
    },
    mqtt: { connected: true, url: 'mqtt://x' },
    cameras: [
      {
        id: 'cam1',
        className: 'screw',
        state: 'online',
        triggerable: false,
        thresholds: { image: 0.5, pixel: 0.5, clear: 0.5 },
        alarm: { active: false },
      },
    ],
  });
  return stubDashboardSource(status, {
    cameraIds: () => ['cam1'],
    suspend: (id, _o, origin) => {
      calls.push(`suspend ${id} by ${origin.user ?? origin.door}`);
      return {
        cameraId: id,
        since: new Date().toISOString(),
        by: origin.user ?? 'dashboard',
        door: 'dashboard',
      };
    },
  });
}

async function server(o: Partial<DashboardOptions> = {}) {
  const calls: string[] = [];
  const opts: DashboardOptions = {
    host: '127.0.0.1',
    port: 0,
    auth: 'users',
    users: [],
    session: { ttlH: 1, idleMin: 10, max: 10, secureCookie: false },
    allowedHosts: [],
    maxLiveConnections: 4,
    ...o,
  };
  const s = new DashboardServer(opts, fakeSource(calls), createLogger({ level: 'silent', pretty: 'never' }));
  await s.start();
  return { s, calls, base: s.address, port: Number(new URL(s.address).port) };
}

const users = async () => [
  { name: 'ann', role: 'operator' as const, passwordHash: await hashPassword('ann-pass-1', FAST) },
  { name: 'vic', role: 'viewer' as const, passwordHash: await hashPassword('vic-pass-1', FAST) },
];

async function login(base: string, user: string, password: string) {
  const r = await fetch(`${base}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, password }),
  });
  const body = (await r.json()) as { csrf?: string; error?: string; role?: string };
  return { r, body, cookie: (r.headers.get('set-cookie') ?? '').split(';')[0] };
}

function raw(port: number, path: string, headers: Record<string, string>, method = 'GET') {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    },
  );
}

test('users: sign-in, cookie flags, roles, CSRF, Origin, Host, sign-out', async (t) => {
  const { s, calls, base, port } = await server({ users: await users() });
  t.after(() => s.stop());
  const post = (path: string, h: Record<string, string>, body: unknown = {}) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...h },
      body: JSON.stringify(body),
    });

  // not signed in: the API answers 401, a page sends to the sign-in form
  assert.equal((await fetch(`${base}/api/status`)).status, 401);
  const page = await fetch(`${base}/events?camera=cam1`, { redirect: 'manual' });
  assert.equal(page.status, 303);
  assert.equal(page.headers.get('location'), '/login?next=%2Fevents%3Fcamera%3Dcam1');
  assert.equal((await post('/api/cameras/cam1/suspend', {})).status, 401);

  // a wrong password or an unknown user: the same answer
  assert.equal((await login(base, 'ann', 'nope')).r.status, 401);
  assert.equal((await login(base, 'nobody', 'nope')).r.status, 401);
  assert.match((await login(base, 'ann', 'nope')).body.error!, /wrong user name or password/);

  const ann = await login(base, 'ann', 'ann-pass-1');
  assert.equal(ann.r.status, 200);
  assert.equal(ann.body.role, 'operator');
  const setCookie = ann.r.headers.get('set-cookie')!;
  for (const flag of ['HttpOnly', 'SameSite=Strict', 'Path=/', 'Max-Age=3600'])
    assert.ok(setCookie.includes(flag), `${flag} in ${setCookie}`);
  assert.ok(!setCookie.includes('Secure'), 'not Secure unless configured');
  assert.equal((await fetch(`${base}/api/status`, { headers: { cookie: ann.cookie } })).status, 200);
  const livePage = await fetch(`${base}/`, { headers: { cookie: ann.cookie } });
  const html = await livePage.text();
  assert.match(html, new RegExp(`<meta name="csrf-token" content="${ann.body.csrf}"`));
  assert.match(html, /data-action="suspend"/, 'an operator gets the buttons');
  assert.match(livePage.headers.get('content-security-policy')!, /script-src 'self'/);
  assert.equal(livePage.headers.get('x-frame-options'), 'DENY');

  // an operator's state change needs the CSRF token, from this origin
  const ok = { cookie: ann.cookie, 'x-csrf-token': ann.body.csrf! };
  assert.equal((await post('/api/cameras/cam1/suspend', { cookie: ann.cookie })).status, 403);
  assert.equal((await post('/api/cameras/cam1/suspend', { ...ok, 'x-csrf-token': 'forged' })).status, 403);
  const cross = await post('/api/cameras/cam1/suspend', { ...ok, origin: 'https://evil.example' });
  assert.equal(cross.status, 403);
  assert.match(((await cross.json()) as { error: string }).error, /cross-site/);
  assert.equal(
    (await post('/api/cameras/cam1/suspend', { ...ok, 'sec-fetch-site': 'cross-site' })).status,
    403,
  );
  assert.equal((await post('/api/cameras/cam1/suspend', { ...ok, origin: 'null' })).status, 403);
  const same = await post('/api/cameras/cam1/suspend', {
    ...ok,
    origin: base,
    'sec-fetch-site': 'same-origin',
  });
  assert.equal(same.status, 200, await same.text());
  assert.deepEqual(calls, ['suspend cam1 by ann'], 'the signed-in user is the actor');

  // a viewer reads but may not act (403 even with its own token)
  const vic = await login(base, 'vic', 'vic-pass-1');
  assert.equal((await fetch(`${base}/api/status`, { headers: { cookie: vic.cookie } })).status, 200);
  const denied = await post('/api/cameras/cam1/suspend', {
    cookie: vic.cookie,
    'x-csrf-token': vic.body.csrf!,
  });
  assert.equal(denied.status, 403);
  assert.match(((await denied.json()) as { error: string }).error, /vic is a viewer/);
  const vpage = await (await fetch(`${base}/`, { headers: { cookie: vic.cookie } })).text();
  assert.doesNotMatch(vpage, /data-action=/, 'no buttons for a viewer');
  assert.equal(calls.length, 1);

  // Host: IP literals, localhost and the machine's name pass; another name is refused
  assert.equal(
    (await raw(port, '/api/status', { host: `localhost:${port}`, cookie: ann.cookie })).status,
    200,
  );
  const rebound = await raw(port, '/api/status', { host: `attacker.example:${port}`, cookie: ann.cookie });
  assert.equal(rebound.status, 403);
  assert.match(rebound.body, /attacker\.example.*dashboard\.allowedHosts/);
  // the probes need nothing
  assert.equal((await raw(port, '/healthz', { host: 'attacker.example' })).status, 200);
  assert.equal((await fetch(`${base}/metrics`)).status, 200);

  // sign-out ends the session; a form sign-out goes back to the form
  const out = await fetch(`${base}/logout`, {
    method: 'POST',
    headers: { cookie: ann.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: `_csrf=${encodeURIComponent(ann.body.csrf!)}`,
    redirect: 'manual',
  });
  assert.equal(out.status, 303);
  assert.equal(out.headers.get('location'), '/login');
  assert.match(out.headers.get('set-cookie')!, /Max-Age=0/);
  assert.equal((await fetch(`${base}/api/status`, { headers: { cookie: ann.cookie } })).status, 401);
});

test('the sign-in form: redirect to where the visitor was going (this site only), throttled after failures', async (t) => {
  const { s, base } = await server({ users: await users() });
  t.after(() => s.stop());
  const form = (user: string, password: string, next: string) =>
    fetch(`${base}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ user, password, next }).toString(),
      redirect: 'manual',
    });
  const good = await form('ann', 'ann-pass-1', '/events');
  assert.equal(good.status, 303);
  assert.equal(good.headers.get('location'), '/events');
  assert.equal((await form('ann', 'ann-pass-1', '//evil.example/')).headers.get('location'), '/');
  const bad = await form('ann', 'wrong', '/');
  assert.equal(bad.status, 401);
  assert.match(await bad.text(), /id="login-error">wrong user name or password/);
  for (let i = 0; i < 9; i++) await form('ann', 'wrong', '/');
  const throttled = await form('ann', 'ann-pass-1', '/');
  assert.equal(throttled.status, 429, 'ten failures: even the right password waits');
  assert.ok(Number(throttled.headers.get('retry-after')) > 0);
});

test('no users: read-only, every state change 401; the page says so', async (t) => {
  const { s, base } = await server();
  t.after(() => s.stop());
  assert.equal((await fetch(`${base}/api/status`)).status, 200);
  const page = await (await fetch(`${base}/`)).text();
  assert.match(page, /READ-ONLY: no users are configured/);
  assert.doesNotMatch(page, /data-action=/);
  const r = await fetch(`${base}/api/cameras/cam1/suspend`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(r.status, 401);
  assert.match(((await r.json()) as { error: string }).error, /read-only/);
  assert.equal((await fetch(`${base}/login`, { redirect: 'manual' })).status, 303, 'no sign-in form');
});

test('auth: none (demo): a banner; acting needs the page token and this origin', async (t) => {
  const { s, calls, base } = await server({ auth: 'none' });
  t.after(() => s.stop());
  const page = await (await fetch(`${base}/`)).text();
  assert.match(page, /DEMO MODE: sign-in is off \(dashboard\.auth: none\)/);
  assert.match(page, /data-action="suspend"/);
  const session = (await (await fetch(`${base}/api/session`)).json()) as { csrf: string; canAct: boolean };
  assert.equal(session.canAct, true);
  const post = (h: Record<string, string>) =>
    fetch(`${base}/api/cameras/cam1/suspend`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...h },
      body: '{}',
    });
  assert.equal((await post({})).status, 403, 'no token');
  assert.equal((await post({ 'x-csrf-token': session.csrf, origin: 'http://evil.example' })).status, 403);
  assert.equal((await post({ 'x-csrf-token': session.csrf })).status, 200);
  assert.deepEqual(calls, ['suspend cam1 by dashboard']);
});

test('live streams: at most dashboard.maxLiveConnections at once, the next one 503', async (t) => {
  const { s, port } = await server({ auth: 'none', maxLiveConnections: 1 });
  t.after(() => s.stop());
  const first = await new Promise<{ status: number; close: () => void }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/api/stream' }, (res) =>
      res.once('data', () => resolve({ status: res.statusCode ?? 0, close: () => req.destroy() })),
    );
    req.on('error', reject);
    req.end();
  });
  assert.equal(first.status, 200);
  const second = await raw(port, '/api/stream', {});
  assert.equal(second.status, 503);
  assert.match(second.body, /maxLiveConnections = 1/);
  first.close();
  let again = 0;
  for (let i = 0; i < 50 && again !== 200; i++) {
    await new Promise((r) => setTimeout(r, 50));
    again = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/api/stream' }, (res) => {
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', reject);
      req.end();
    });
  }
  assert.equal(again, 200, 'the slot is free once the first stream closed');
});
