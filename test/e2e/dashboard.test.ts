// The dashboard in a real browser (Debian's Chromium, headless, driven by playwright-core) against
// the real service (`adaclip-edge run`: demo bundle, synthetic cameras, a real Mosquitto), with
// users made by `adaclip-edge hash-password`. An operator signs in, sees a live tile update, changes
// thresholds, opens an event, acknowledges it (a new MQTT subscriber gets the retained alarm with
// who and the comment), marks it a false positive, suspends and resumes a camera, triggers a part
// and opens its result, downloads the review export; a viewer sees everything and can do none of
// it (403); a POST without a session is 401; a cross-site POST (another origin's page in the same
// browser, a wrong Origin, a missing or wrong CSRF token, a foreign Host) fails; the live streams
// are bounded. Screenshots of every page go to DASHBOARD_SCREENSHOTS (default .tmp/screenshots/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { client, signIn, userEntry } from '../helpers/dashboard-session.js';
import { Mosquitto, freePort } from '../helpers/mosquitto.js';
import { ROOT } from '../helpers/shared.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const BUNDLE = join(ROOT, 'models', 'bundles', 'demo-untrained');
const SHOTS = process.env.DASHBOARD_SCREENSHOTS ?? join(ROOT, '.tmp', 'screenshots');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const BROWSER_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const OPERATOR = { name: 'olga', password: 'olga-secret-1' };
const VIEWER = { name: 'victor', password: 'victor-secret-2' };

type Json = any;
// page functions run in the browser (the tests compile without the DOM library)
declare const document: any;

/** A fresh browser profile (its own user-data-dir) with the size of an operator's screen. */
async function browserContext(dirs: string[]): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  dirs.push(profile);
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: BROWSER_ARGS,
    viewport: { width: 1440, height: 900 },
    locale: 'en-GB',
    timezoneId: 'Europe/Berlin',
  });
}

async function shot(page: Page, name: string, fullPage = true): Promise<void> {
  await page.evaluate(() => document.fonts?.ready);
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
}

async function signInPage(page: Page, base: string, user: { name: string; password: string }) {
  await page.goto(`${base}/login`);
  await page.fill('input[name=user]', user.name);
  await page.fill('input[name=password]', user.password);
  await Promise.all([page.waitForURL(`${base}/`), page.click('button[type=submit]')]);
}

test(
  'dashboard: an operator watches, acknowledges, reviews, suspends; a viewer cannot; cross-site fails',
  { timeout: 600_000 },
  async (t) => {
    assert.ok(
      existsSync(CHROMIUM),
      `no Chromium at ${CHROMIUM}: scripts/setup.sh installs Debian's chromium (SETUP_BROWSER=1), or set CHROMIUM_PATH`,
    );
    assert.ok(
      existsSync(join(BUNDLE, 'manifest.json')),
      `demo bundle missing at ${BUNDLE}: run scripts/setup.sh`,
    );
    mkdirSync(SHOTS, { recursive: true });
    const dirs: string[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'dash-e2e-'));
    dirs.push(dir);
    t.after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
    const broker = new Mosquitto();
    await broker.start();
    t.after(() => broker.stop());

    const httpPort = await freePort();
    const cfg = join(dir, 'cfg.yaml');
    writeFileSync(
      cfg,
      `site: plant-7
line: press-line
model: { bundle: ${BUNDLE}, engine: { backend: onnxruntime, maxBatch: 2 } }
cameras:
  - id: line-cam
    className: screw
    source: { kind: synthetic, width: 640, height: 360, fps: 4, seed: 5 }
    # 0: every frame of the untrained model is anomalous, so an alarm is raised at once
    thresholds: { image: 0.0, pixel: 0.6 }
    calibration: { at: '2026-05-30T06:00:00.000Z', images: 240, rule: 'q99.5 + 1 MAD', targetFpr: 0.005 }
  - id: press
    className: screw
    source: { kind: trigger, http: true, inner: { kind: synthetic, width: 320, height: 240, fps: 20, seed: 6 } }
    thresholds: { image: 0.99, pixel: 0.6 }
mqtt:
  url: "${broker.url}"
  baseTopic: e2e
  outbox: { path: ${join(dir, 'outbox.sqlite')} }
snapshots: { dir: ${join(dir, 'snaps')}, results: all }
history: { path: ${join(dir, 'history.sqlite')}, reviewsDir: ${join(dir, 'reviews')} }
dashboard:
  port: ${httpPort}
  maxLiveConnections: 4
  users:
    ${userEntry(OPERATOR.name, 'operator', OPERATOR.password)}
    ${userEntry(VIEWER.name, 'viewer', VIEWER.password)}
log: { pretty: never }
`,
    );
    let out = '';
    const svc: ChildProcess = spawn(process.execPath, [CLI, 'run', '--config', cfg], { cwd: ROOT });
    t.after(() => svc.kill('SIGKILL'));
    svc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    svc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const base = `http://127.0.0.1:${httpPort}`;
    const waitFor = async <T>(
      what: string,
      fn: () => T | undefined | Promise<T | undefined>,
      ms = 60_000,
    ) => {
      const end = Date.now() + ms;
      for (;;) {
        const v = await Promise.resolve(fn()).catch(() => undefined);
        if (v !== undefined && v !== false) return v as T;
        if (Date.now() > end)
          throw new Error(`timed out waiting for ${what}; service log:\n${out.slice(-4000)}`);
        if (svc.exitCode !== null) throw new Error(`service exited before ${what}:\n${out.slice(-4000)}`);
        await sleep(200);
      }
    };
    await waitFor(
      'the service ready',
      async () => ((await fetch(`${base}/readyz`)).ok ? true : undefined),
      180_000,
    );

    // an API client as the operator, to read state and to wait (the browser does the acting)
    const api = await signIn(base, OPERATOR.name, OPERATOR.password);
    const camera = async (id: string): Promise<Json> =>
      (((await (await api.get('/api/status')).json()) as Json).cameras as { id: string }[]).find(
        (c) => c.id === id,
      );

    const ctx = await browserContext(dirs);
    t.after(() => ctx.close());
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    // script errors only: a refused request (the wrong password's 401) is logged as an error too
    page.on('console', (m) => {
      if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) pageErrors.push(m.text());
    });

    // 1. not signed in: the live page sends to the sign-in form; a wrong password is named
    await page.goto(`${base}/`);
    assert.match(page.url(), /\/login\?next=%2F$/);
    await page.fill('input[name=user]', OPERATOR.name);
    await page.fill('input[name=password]', 'wrong-password');
    await page.click('button[type=submit]');
    assert.match(await page.locator('#login-error').innerText(), /wrong user name or password/);
    await shot(page, '01-login', false);
    await signInPage(page, base, OPERATOR);

    // 2. the live tile: a picture that updates, the score against the threshold, fps, state, calibration
    const tile = page.locator('article.tile[data-camera="line-cam"]');
    await tile.locator('img[data-f="live"]').waitFor();
    await page.waitForFunction(
      () => document.querySelector('article.tile[data-camera="line-cam"]')?.classList.contains('has-frame'),
      null,
      { timeout: 60_000 },
    );
    const seqOf = () => tile.locator('img[data-f="live"]').getAttribute('src');
    const firstSrc = await seqOf();
    await page.waitForFunction(
      (src) =>
        document
          .querySelector('article.tile[data-camera="line-cam"] img[data-f="live"]')
          ?.getAttribute('src') !== src,
      firstSrc,
      { timeout: 30_000 },
    );
    const natural = await tile
      .locator('img[data-f="live"]')
      .evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth);
    assert.equal(natural, 640, 'the live frame is the camera picture at its size');
    assert.match(await tile.locator('[data-f="score"]').innerText(), /^\d\.\d{3}$/);
    assert.equal(await tile.getAttribute('data-state'), 'online');
    assert.equal(await tile.locator('[data-f="state"]').innerText(), 'ONLINE');
    assert.match(await tile.locator('.calib').innerText(), /240 good images/);
    await page.waitForFunction(
      () =>
        Number(document.querySelector('article.tile[data-camera="line-cam"] [data-f="fps"]')?.textContent) >
        0,
      null,
      { timeout: 30_000 },
    );
    await waitFor('the alarm on the tile', async () =>
      (await tile.getAttribute('data-alarm')) === 'active' ? true : undefined,
    );
    assert.match(await tile.locator('[data-f="alarm"]').innerText(), /NOT ACKNOWLEDGED/);
    assert.match(await page.locator('#untrained').innerText(), /UNTRAINED MODEL/);
    assert.match(await page.locator('#provenance').innerText(), /demo-untrained/);
    await shot(page, '02-live', false);

    // 3. thresholds on the camera's page: clear the alarm, raise it again (a burst of events)
    await page.goto(`${base}/cameras/line-cam`);
    const setThresholds = async (image: string, clear: string, active: boolean) => {
      await page.fill('form.thresholds input[name=image]', image);
      await page.fill('form.thresholds input[name=clear]', clear);
      await page.click('form.thresholds button[type=submit]');
      await waitFor(`the alarm ${active ? 'raised' : 'cleared'}`, async () =>
        (await camera('line-cam')).alarm.active === active ? true : undefined,
      );
      await page.waitForLoadState('load');
    };
    await setThresholds('0.99', '0.99', false);
    await setThresholds('0', '0', true);
    await setThresholds('0.99', '0.99', false);
    await setThresholds('0', '0', true);
    assert.equal((await camera('line-cam')).thresholds.image, 0);
    await page.goto(`${base}/cameras/line-cam`);
    await page.locator('table.events tbody tr').first().waitFor();
    await shot(page, '03-camera');

    // 4. the events page: the burst is one row that expands into its events
    await page.goto(`${base}/events?camera=line-cam`);
    const group = page.locator('tr.group').first();
    const count = Number(await group.locator('td.num').first().innerText());
    assert.ok(count >= 4, `one row for the burst of raise/clear events (got ${count})`);
    await group.locator('a.expand').click();
    await page.locator('tr.burst-body tr.ev').first().waitFor();
    assert.equal(await page.locator('tr.burst-body tr.ev').count(), count);
    await shot(page, '04-events');

    // 5. the event's detail: frame with its regions, overlay, scores, latencies, model
    const active = (await camera('line-cam')).alarm;
    await page.goto(`${base}/events/${active.eventId}`);
    for (const id of ['#frame-img', '#overlay-img']) {
      const w = await page.locator(id).evaluate(async (el) => {
        const img = el as unknown as { complete: boolean; naturalWidth: number; decode(): Promise<void> };
        if (!img.complete) await img.decode();
        return img.naturalWidth;
      });
      assert.equal(w, 640, `${id} at full size`);
    }
    const detailText = await page.locator('main').innerText();
    assert.match(detailText, /RAISED/);
    assert.match(detailText, /latencies/i);
    assert.match(detailText, /model\.onnx sha256/i);
    assert.match(detailText, /untrained-test/);

    // 6. acknowledge it with a comment: stored, shown, published retained on e2e/line-cam/alarm
    await page.fill('form[data-form="ack"] textarea[name=comment]', 'feeder jammed, cleared it');
    await Promise.all([page.waitForEvent('load'), page.click('form[data-form="ack"] button[type=submit]')]);
    assert.match(await page.locator('#ack-state').innerText(), /Acknowledged by olga/);
    const late = mqtt.connect(broker.url, { protocolVersion: 4 });
    const retained = await new Promise<Json>((resolve, reject) => {
      late.on('message', (_t, p, packet) => {
        const m = JSON.parse(p.toString());
        if (m.acknowledged) resolve({ ...m, retainFlag: packet.retain });
      });
      late.once('connect', () => late.subscribe('e2e/line-cam/alarm', { qos: 1 }));
      late.once('error', reject);
    });
    late.end(true);
    assert.equal(retained.retainFlag, true, 'the alarm state is retained');
    assert.equal(retained.active, true);
    assert.equal(retained.eventId, active.eventId);
    assert.equal(retained.acknowledged.by, 'olga');
    assert.equal(retained.acknowledged.comment, 'feeder jammed, cleared it');

    // 7. review it as a false positive
    await page.click('button[data-action="review"][data-label="false-positive"]');
    await page.fill('#dlg-review textarea[name=comment]', 'glare on the chamfer');
    await Promise.all([page.waitForEvent('load'), page.click('#dlg-review button[value=ok]')]);
    assert.match(await page.locator('#review-state').innerText(), /false positive by olga/i);
    const stored = (await (await api.get(`/api/events/${active.eventId}`)).json()) as Json;
    assert.equal(stored.review.label, 'false-positive');
    assert.equal(stored.review.by, 'olga');
    assert.equal(stored.acknowledged.by, 'olga');
    await shot(page, '05-event-detail');

    // 8. suspend the camera for an hour from its tile, then resume it
    await page.goto(`${base}/`);
    await tile.locator('button[data-action="suspend"]').click();
    await page.selectOption('#dlg-suspend select[name=duration]', '3600');
    await page.fill('#dlg-suspend textarea[name=comment]', 'lens cleaning');
    await page.click('#dlg-suspend button[value=ok]');
    await page.waitForFunction(
      () =>
        document.querySelector('article.tile[data-camera="line-cam"]')?.getAttribute('data-state') ===
        'suspended',
      null,
      { timeout: 20_000 },
    );
    const suspended = await camera('line-cam');
    assert.equal(suspended.state, 'suspended');
    assert.equal(suspended.suspension.by, 'olga');
    const hours = (Date.parse(suspended.suspendedUntil) - Date.now()) / 3_600_000;
    assert.ok(hours > 0.9 && hours <= 1, `suspended for an hour (${hours} h left)`);
    await page.waitForFunction(
      () =>
        /suspended by olga/.test(
          document.querySelector('article.tile[data-camera="line-cam"] .suspension')?.textContent ?? '',
        ),
      null,
      { timeout: 20_000 },
    );
    assert.equal(await tile.locator('[data-f="state"]').innerText(), 'SUSPENDED');
    await shot(page, '06-live-suspended', false);
    await tile.locator('button[data-action="resume"]').click();
    await page.waitForFunction(
      () =>
        document.querySelector('article.tile[data-camera="line-cam"]')?.getAttribute('data-state') ===
        'online',
      null,
      { timeout: 20_000 },
    );
    assert.equal((await camera('line-cam')).state, 'online');

    // 9. trigger two parts on the trigger camera; the results page and one result's detail
    const press = page.locator('article.tile[data-camera="press"]');
    for (let i = 0; i < 2; i++) {
      await press.locator('button[data-action="trigger"]').click();
      await page.locator('#toast.show').waitFor();
      await sleep(300);
    }
    await waitFor('two results', async () =>
      ((await (await api.get('/api/results?camera=press')).json()) as Json).items.length >= 2
        ? true
        : undefined,
    );
    await page.goto(`${base}/results`);
    assert.ok((await page.locator('table.results tbody tr').count()) >= 2);
    await shot(page, '07-results');
    await page.locator('table.results tbody tr a').first().click();
    await page.waitForURL(/\/results\/[0-9A-Z]{26}$/);
    assert.match(await page.locator('h1').innerText(), /OK|NG/);
    await shot(page, '08-result-detail');

    // 10. the reviews page and the export it links to (a tar in the MVTec AD layout)
    await page.goto(`${base}/reviews`);
    assert.match(await page.locator('main').innerText(), /glare on the chamfer/);
    await shot(page, '09-reviews');
    const tar = await api.get('/api/reviews/export.tar');
    assert.equal(tar.status, 200);
    const tarFile = join(dir, 'export.tar');
    writeFileSync(tarFile, Buffer.from(await tar.arrayBuffer()));
    const listing = spawnSync('tar', ['-tf', tarFile], { encoding: 'utf8' });
    assert.equal(listing.status, 0, listing.stderr);
    assert.ok(
      listing.stdout.split('\n').includes(`screw/test/good/event-${active.eventId}.jpg`),
      listing.stdout,
    );

    // 11. sign out
    await Promise.all([page.waitForURL(/\/login$/), page.click('header form[action="/logout"] button')]);
    assert.deepEqual(pageErrors, [], 'no script errors on any page');

    // 12. a viewer sees the pages without a single action, and every action answers 403
    const vctx = await browserContext(dirs);
    t.after(() => vctx.close());
    const vpage = vctx.pages()[0] ?? (await vctx.newPage());
    await signInPage(vpage, base, VIEWER);
    await vpage.locator('article.tile[data-camera="line-cam"]').waitFor();
    assert.equal(await vpage.locator('button[data-action]').count(), 0, 'no action buttons for a viewer');
    await vpage.waitForFunction(
      () => document.querySelector('article.tile[data-camera="line-cam"]')?.classList.contains('has-frame'),
      null,
      { timeout: 30_000 },
    );
    await shot(vpage, '10-live-viewer', false);
    await vpage.goto(`${base}/events/${active.eventId}`);
    assert.equal(await vpage.locator('button[data-action="review"]').count(), 0);
    await vctx.close();
    const viewer = await signIn(base, VIEWER.name, VIEWER.password);
    const result = ((await (await api.get('/api/results?camera=press&limit=1')).json()) as Json).items[0];
    const raise = ((await (await api.get('/api/events?camera=line-cam&limit=1')).json()) as Json).items[0];
    const actions: [string, unknown][] = [
      [`/api/events/${raise.id}/ack`, { comment: 'x' }],
      [`/api/events/${raise.id}/review`, { label: 'confirmed' }],
      [`/api/results/${result.id}/review`, { label: 'confirmed' }],
      ['/api/cameras/line-cam/suspend', { durationS: 60 }],
      ['/api/cameras/line-cam/resume', undefined],
      ['/api/cameras/press/trigger', {}],
      ['/api/cameras/line-cam/thresholds', { image: 0.5 }],
    ];
    for (const [path, body] of actions) {
      const r = await viewer.post(path, body);
      assert.equal(r.status, 403, `viewer POST ${path}`);
      assert.match(((await r.json()) as Json).error, /victor is a viewer/);
      // 13. without a session: 401
      const anon = await client(base, '', '').post(path, body);
      assert.equal(anon.status, 401, `anonymous POST ${path}`);
    }
    assert.equal((await camera('line-cam')).state, 'online', 'nothing the viewer asked happened');
    assert.equal((await client(base, '', '').get('/api/status')).status, 401, 'reading needs a sign-in too');

    // 14. cross-site: the operator's cookie with a foreign Origin, no token, a wrong token, a foreign Host
    const op = api;
    const suspend = '/api/cameras/line-cam/suspend';
    const foreign = await op.post(suspend, {}, { origin: 'http://evil.example' });
    assert.equal(foreign.status, 403);
    assert.match(((await foreign.json()) as Json).error, /cross-site request refused/);
    const noToken = await client(base, op.cookie, '').post(suspend, {});
    assert.equal(noToken.status, 403);
    assert.match(((await noToken.json()) as Json).error, /CSRF token/);
    assert.equal((await client(base, op.cookie, 'x'.repeat(43)).post(suspend, {})).status, 403);
    const rebound = await rawRequest(httpPort, {
      path: '/api/status',
      headers: { host: `evil.example:${httpPort}`, cookie: op.cookie },
    });
    assert.equal(rebound.status, 403);
    assert.match(rebound.body, /not allowed/);
    assert.equal((await camera('line-cam')).state, 'online', 'no cross-site request suspended the camera');

    // ... and a page of another origin in the same browser, posting a form with the operator signed in
    const evilPort = await freePort();
    const evil = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><form id="f" method="post" action="${base}${suspend}" enctype="text/plain">
        <input name='{"durationS":60,"x":"' value='"}'></form><script>document.getElementById('f').submit()</script>`);
    });
    await new Promise<void>((r) => evil.listen(evilPort, '127.0.0.1', r));
    t.after(() => evil.close());
    const octx = await browserContext(dirs);
    t.after(() => octx.close());
    const opage = octx.pages()[0] ?? (await octx.newPage());
    await signInPage(opage, base, OPERATOR);
    const answer = opage.waitForResponse((r) => r.url() === `${base}${suspend}`);
    // localhost: another site for the browser (SameSite), not just another port
    await opage.goto(`http://localhost:${evilPort}/`);
    const evilAnswer = await answer;
    assert.ok(
      [401, 403].includes(evilAnswer.status()),
      `cross-site form post refused (${evilAnswer.status()})`,
    );
    assert.equal((await camera('line-cam')).state, 'online');

    // 15. live streams are bounded (dashboard.maxLiveConnections: 4): close the browsers, fill, refuse
    await opage.goto('about:blank');
    await ctx.close();
    await octx.close();
    const streams: (() => void)[] = [];
    t.after(() => streams.forEach((close) => close()));
    // the browsers' own streams end when the server sees their sockets close: retry until then
    const refused = await waitFor('four streams open and the fifth refused', async () => {
      let no: { status: number; body: string } | undefined;
      for (let i = 0; i < 8 && !no; i++) {
        const s = await openStream(httpPort, op.cookie);
        if (s.status === 200) streams.push(s.close);
        else no = { status: s.status, body: s.body };
      }
      if (streams.length === 4 && no) return no;
      streams.splice(0).forEach((close) => close());
      await sleep(500);
      return undefined;
    });
    assert.equal(refused.status, 503);
    assert.match(refused.body, /too many live connections/);
    streams.pop()!();
    await waitFor('a slot free again', async () => {
      const s = await openStream(httpPort, op.cookie);
      if (s.status !== 200) return undefined;
      streams.push(s.close);
      return true;
    });

    streams.forEach((close) => close());
    streams.length = 0;
    svc.kill('SIGTERM');
    const code = await new Promise<number | null>((r) =>
      svc.exitCode !== null ? r(svc.exitCode) : svc.once('exit', r),
    );
    assert.equal(code, 0, out.slice(-4000));
  },
);

function rawRequest(
  port: number,
  o: { path: string; headers: Record<string, string> },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: o.path, headers: o.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens GET /api/stream; a 200 stays open until close(), anything else is read to its end. */
function openStream(
  port: number,
  cookie: string,
): Promise<{ status: number; body: string; close: () => void }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/api/stream', headers: { cookie } }, (res) => {
      if (res.statusCode === 200) {
        res.once('data', () => resolve({ status: 200, body: '', close: () => req.destroy() }));
        return;
      }
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, close: () => undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

test(
  'dashboard: the demo mode (auth: none) says so on every page, acts with the page token, refuses cross-site',
  { timeout: 300_000 },
  async (t) => {
    assert.ok(
      existsSync(CHROMIUM),
      `no Chromium at ${CHROMIUM}: scripts/setup.sh installs Debian's chromium`,
    );
    assert.ok(
      existsSync(join(BUNDLE, 'manifest.json')),
      `demo bundle missing at ${BUNDLE}: run scripts/setup.sh`,
    );
    mkdirSync(SHOTS, { recursive: true });
    const dirs: string[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'dash-demo-'));
    dirs.push(dir);
    t.after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
    const httpPort = await freePort();
    const cfg = join(dir, 'cfg.yaml');
    writeFileSync(
      cfg,
      `site: demo-plant
line: line-1
model: { bundle: ${BUNDLE}, engine: { backend: onnxruntime } }
cameras:
  - id: cam1
    className: screw
    source: { kind: synthetic, width: 640, height: 360, fps: 4, seed: 1 }
    thresholds: { image: 0.0, pixel: 0.6 }
mqtt: { embedded: { port: ${await freePort()} }, outbox: { path: ${join(dir, 'outbox.sqlite')} } }
snapshots: { dir: ${join(dir, 'snaps')} }
history: { path: ${join(dir, 'history.sqlite')}, reviewsDir: ${join(dir, 'reviews')} }
dashboard: { port: ${httpPort}, auth: none }
log: { pretty: never }
`,
    );
    let out = '';
    const svc: ChildProcess = spawn(process.execPath, [CLI, 'run', '--config', cfg], { cwd: ROOT });
    t.after(() => svc.kill('SIGKILL'));
    svc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    svc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const base = `http://127.0.0.1:${httpPort}`;
    const deadline = Date.now() + 180_000;
    while (
      !(await fetch(`${base}/readyz`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (Date.now() > deadline || svc.exitCode !== null)
        throw new Error(`the service never became ready:\n${out}`);
      await sleep(250);
    }
    assert.match(out, /"auth":"none \(demo: anyone may act\)"/, 'the log says it too');

    const ctx = await browserContext(dirs);
    t.after(() => ctx.close());
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    await page.goto(`${base}/`);
    assert.match(page.url(), /\/$/, 'no sign-in');
    assert.match(await page.locator('#banner-auth').innerText(), /DEMO MODE: sign-in is off/);
    const tile = page.locator('article.tile[data-camera="cam1"]');
    await page.waitForFunction(
      () => document.querySelector('article.tile[data-camera="cam1"]')?.classList.contains('has-frame'),
      null,
      { timeout: 60_000 },
    );
    await tile.locator('button[data-action="suspend"]').click();
    await page.selectOption('#dlg-suspend select[name=duration]', '900');
    await page.click('#dlg-suspend button[value=ok]');
    await page.waitForFunction(
      () =>
        document.querySelector('article.tile[data-camera="cam1"]')?.getAttribute('data-state') ===
        'suspended',
      null,
      { timeout: 20_000 },
    );
    await page.waitForFunction(
      () =>
        /suspended by dashboard/.test(
          document.querySelector('article.tile[data-camera="cam1"] .suspension')?.textContent ?? '',
        ),
      null,
      { timeout: 20_000 },
    );
    await shot(page, '11-live-demo-mode', false);
    await page.goto(`${base}/events`);
    assert.match(await page.locator('#banner-auth').innerText(), /DEMO MODE/, 'on every page');

    // a page of another site posting to the demo: refused by its Origin
    const evilPort = await freePort();
    const evil = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><form id="f" method="post" action="${base}/api/cameras/cam1/resume"></form>
        <script>document.getElementById('f').submit()</script>`);
    });
    await new Promise<void>((r) => evil.listen(evilPort, '127.0.0.1', r));
    t.after(() => evil.close());
    const answer = page.waitForResponse((r) => r.url() === `${base}/api/cameras/cam1/resume`);
    await page.goto(`http://localhost:${evilPort}/`);
    assert.equal((await answer).status(), 403);
    const status = (await (await fetch(`${base}/api/status`)).json()) as Json;
    assert.equal(status.cameras[0].state, 'suspended', 'the cross-site post resumed nothing');
    // without the page's token: 403 too
    const bare = await fetch(`${base}/api/cameras/cam1/resume`, { method: 'POST' });
    assert.equal(bare.status, 403);

    await ctx.close();
    svc.kill('SIGTERM');
    const code = await new Promise<number | null>((r) =>
      svc.exitCode !== null ? r(svc.exitCode) : svc.once('exit', r),
    );
    assert.equal(code, 0, out.slice(-4000));
  },
);
