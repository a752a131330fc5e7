// The parts of the dashboard's access, each alone: password hashes (scrypt, PHC-style string, cost
// carried in the hash, bad hashes named, the config refusing one), the session store (expiry by
// age and by idleness, bounded with the least recently used going first), the request guard's
// Host and Origin rules, the sign-in throttle, and the tar writer of the review export (read back
// with GNU tar).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoginThrottle } from '../../src/dashboard/auth/login-throttle.js';
import { hostName, RequestGuard } from '../../src/dashboard/auth/request-guard.js';
import { SessionStore } from '../../src/dashboard/auth/sessions.js';
import { readCookie } from '../../src/dashboard/auth/cookies.js';
import { validateConfig } from '../../src/config/load.js';
import { hashPassword, parseHash, verifyPassword } from '../../src/util/password-hash.js';
import { tarFolder } from '../../src/util/tar.js';

test('password hashes: verify, refuse a wrong password, carry their cost, name what is wrong', async () => {
  const h = await hashPassword('correct horse', { ln: 10, r: 8, p: 1 });
  assert.match(h, /^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  assert.equal(await verifyPassword('correct horse', parseHash(h)), true);
  assert.equal(await verifyPassword('correct horsE', parseHash(h)), false);
  assert.notEqual(await hashPassword('correct horse', { ln: 10, r: 8, p: 1 }), h, 'a new salt each time');
  // the default cost: what `hash-password` writes
  const d = await hashPassword('x');
  assert.equal(parseHash(d).ln, 15);
  assert.equal(await verifyPassword('x', parseHash(d)), true);
  assert.throws(() => parseHash('plaintext'), /a password hash of the form/);
  assert.throws(() => parseHash(h.replace('ln=10', 'ln=30')), /ln within 10\.\.20 \(got 30\)/);
  await assert.rejects(hashPassword(''), /empty/);
});

test('config: dashboard.users with a bad hash, duplicates, or beside auth: none is refused by name', async () => {
  const h = await hashPassword('pw', { ln: 10, r: 8, p: 1 });
  const base = {
    model: { bundle: 'b' },
    cameras: [{ id: 'c', className: 'x', source: { kind: 'synthetic' } }],
  };
  const bad = (dashboard: unknown) => () => validateConfig({ ...base, dashboard });
  assert.throws(bad({ users: [{ name: 'a', role: 'operator', passwordHash: 'secret' }] }), (err: Error) => {
    assert.match(err.message, /dashboard\.users\[0\]\.passwordHash: got "\*\*\*"; expected a password hash/);
    assert.doesNotMatch(err.message, /secret/, 'the value is not shown');
    return true;
  });
  assert.throws(
    bad({ users: [{ name: 'a', role: 'boss', passwordHash: h }] }),
    /dashboard\.users\[0\]\.role/,
  );
  const two = [
    { name: 'a', role: 'operator', passwordHash: h },
    { name: 'a', role: 'viewer', passwordHash: h },
  ];
  assert.throws(bad({ users: two }), /user names must be unique/);
  assert.throws(bad({ auth: 'none', users: [two[0]] }), /not used with dashboard\.auth: none/);
  const ok = validateConfig({ ...base, dashboard: { users: [two[0]] } });
  assert.equal(ok.dashboard.host, '127.0.0.1', 'loopback by default');
  assert.equal(ok.dashboard.auth, 'users');
  assert.equal(ok.dashboard.maxLiveConnections, 16);
});

test('sessions: ended by age and by idleness; bounded, least recently used first', () => {
  let now = 0;
  const store = new SessionStore({ ttlMs: 1000, idleMs: 300, max: 2 }, () => now);
  const a = store.create({ name: 'a', role: 'operator' });
  assert.equal(store.get(a.token)?.user.name, 'a');
  assert.notEqual(a.session.csrf, a.token);
  now = 250;
  assert.ok(store.get(a.token), 'used within the idle time');
  now = 500;
  assert.ok(store.get(a.token));
  now = 801;
  assert.equal(store.get(a.token), undefined, 'idle for 301 ms');
  now = 1000;
  const b = store.create({ name: 'b', role: 'viewer' });
  for (now = 1200; now < 2000; now += 200) assert.ok(store.get(b.token), `kept in use at ${now}`);
  now = 2000;
  assert.equal(store.get(b.token), undefined, 'a sign-in lasts at most ttlMs');
  const c = store.create({ name: 'c', role: 'viewer' });
  const d = store.create({ name: 'd', role: 'viewer' });
  store.get(c.token); // c used after d: d is the least recently used
  const e = store.create({ name: 'e', role: 'viewer' });
  assert.equal(store.size, 2);
  assert.equal(store.get(d.token), undefined);
  assert.ok(store.get(c.token) && store.get(e.token));
  assert.equal(store.get('x'.repeat(200)), undefined);
  store.delete(c.token);
  assert.equal(store.get(c.token), undefined);
});

test('request guard: Host names and Origins', () => {
  const g = new RequestGuard(['station.plant.local'], 'jetson-7');
  for (const host of [
    '127.0.0.1:8080',
    '[::1]:8080',
    '10.0.0.5',
    'localhost:8080',
    'jetson-7:80',
    'JETSON-7.local',
    'station.plant.local:8080',
    'x.localhost',
  ])
    assert.equal(g.hostRefusal(host), undefined, host);
  assert.match(g.hostRefusal('evil.example:8080')!, /"evil\.example" is not allowed/);
  assert.match(g.hostRefusal(undefined)!, /without a Host/);
  assert.match(g.hostRefusal('a b')!, /malformed/);
  assert.equal(new RequestGuard(['*']).hostRefusal('anything.example'), undefined);
  assert.equal(hostName('[fe80::1]:80'), 'fe80::1');

  const host = '127.0.0.1:8080';
  assert.equal(g.crossSiteRefusal({ host, origin: 'http://127.0.0.1:8080' }), undefined);
  assert.equal(
    g.crossSiteRefusal({ host, origin: 'https://127.0.0.1:8080' }),
    undefined,
    'through a TLS proxy',
  );
  assert.match(g.crossSiteRefusal({ host, origin: 'http://127.0.0.1:9999' })!, /cross-site/);
  assert.match(g.crossSiteRefusal({ host, origin: 'null' })!, /cross-site/);
  assert.match(g.crossSiteRefusal({ host, secFetchSite: 'same-site' })!, /Sec-Fetch-Site: same-site/);
  assert.equal(g.crossSiteRefusal({ host, secFetchSite: 'same-origin' }), undefined);
  assert.equal(g.crossSiteRefusal({ host }), undefined, 'not a browser: login and CSRF decide');
});

test('cookies: only the session cookie, only a well-formed value', () => {
  assert.equal(readCookie('a=1; adaclip_session=abc_DEF-9; b=2', 'adaclip_session'), 'abc_DEF-9');
  assert.equal(readCookie('adaclip_session=a;b', 'adaclip_session'), 'a');
  assert.equal(readCookie('adaclip_session=<script>', 'adaclip_session'), undefined);
  assert.equal(readCookie(undefined, 'adaclip_session'), undefined);
});

test('sign-in throttle: waits after maxFailures within the window, forgets after it', () => {
  let now = 0;
  const t = new LoginThrottle({ maxFailures: 3, windowMs: 1000, maxClients: 2 }, () => now);
  for (let i = 0; i < 2; i++) t.failed('a');
  assert.equal(t.waitS('a'), 0);
  t.failed('a');
  now = 400;
  assert.equal(t.waitS('a'), 1);
  now = 1000;
  assert.equal(t.waitS('a'), 0, 'the window has passed');
  t.failed('b');
  t.failed('c');
  t.failed('d');
  assert.equal(t.waitS('b'), 0);
  for (let i = 0; i < 3; i++) t.failed('e');
  assert.ok(t.waitS('e') > 0);
  t.succeeded('e');
  assert.equal(t.waitS('e'), 0);
});

test('tar: a folder as an archive GNU tar reads back, long paths included', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tar-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const src = join(dir, 'src');
  const deep = join(src, 'screw', 'test', 'good', 'x'.repeat(60), 'y'.repeat(40));
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(src, 'export.json'), '{"items":[]}\n');
  const big = Buffer.alloc(70_000, 7);
  writeFileSync(join(deep, 'event-01JDZ8Q6X1M3T4V5W6Y7Z8A9BC.jpg'), big);
  writeFileSync(join(src, 'screw', 'empty.txt'), '');
  const chunks: Buffer[] = [];
  for await (const c of tarFolder(src)) chunks.push(c);
  const archive = join(dir, 'a.tar');
  writeFileSync(archive, Buffer.concat(chunks));
  assert.equal(Buffer.concat(chunks).length % 512, 0);
  const list = spawnSync('tar', ['-tf', archive], { encoding: 'utf8' });
  assert.equal(list.status, 0, list.stderr);
  const longName = `screw/test/good/${'x'.repeat(60)}/${'y'.repeat(40)}/event-01JDZ8Q6X1M3T4V5W6Y7Z8A9BC.jpg`;
  assert.ok(longName.length > 100);
  assert.deepEqual(list.stdout.trim().split('\n').sort(), [
    'export.json',
    'screw/',
    'screw/empty.txt',
    'screw/test/',
    'screw/test/good/',
    `screw/test/good/${'x'.repeat(60)}/`,
    `screw/test/good/${'x'.repeat(60)}/${'y'.repeat(40)}/`,
    longName,
  ]);
  const back = spawnSync('tar', ['-xOf', archive, longName]);
  assert.equal(back.status, 0);
  assert.ok(Buffer.compare(back.stdout, big) === 0, 'the file comes back byte for byte');
  assert.equal(
    spawnSync('tar', ['-xOf', archive, 'export.json'], { encoding: 'utf8' }).stdout,
    '{"items":[]}\n',
  );
});
