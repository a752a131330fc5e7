// A signed-in client of a running dashboard, for tests that drive its HTTP API: POST /login with
// JSON, then every request carries the session cookie and every POST the session's CSRF token.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './shared.js';

export interface DashboardClient {
  cookie: string;
  csrf: string;
  get(path: string): Promise<Response>;
  post(path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
}

export async function signIn(base: string, user: string, password: string): Promise<DashboardClient> {
  const r = await fetch(`${base}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, password }),
  });
  const body = (await r.json()) as { csrf?: string; error?: string };
  if (r.status !== 200 || !body.csrf) throw new Error(`sign-in as ${user} failed: ${r.status} ${body.error}`);
  const setCookie = r.headers.get('set-cookie') ?? '';
  const cookie = setCookie.split(';')[0];
  return client(base, cookie, body.csrf);
}

/** A client with a given cookie and CSRF token (either may be empty: to test refusals). */
export function client(base: string, cookie: string, csrf: string): DashboardClient {
  return {
    cookie,
    csrf,
    get: (path) => fetch(`${base}${path}`, { headers: cookie ? { cookie } : {} }),
    post: (path, body, headers = {}) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: {
          ...(cookie && { cookie }),
          ...(csrf && { 'x-csrf-token': csrf }),
          ...(body !== undefined && { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      }),
  };
}

/** A dashboard.users entry made by `adaclip-edge hash-password --user NAME --role ROLE` (password on stdin). */
export function userEntry(name: string, role: 'viewer' | 'operator', password: string): string {
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'dist/src/cli/main.js'), 'hash-password', '--user', name, '--role', role],
    { input: `${password}\n`, encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`hash-password failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim();
}
