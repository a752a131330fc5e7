// `adaclip-edge fleet` in a real Chromium against the 3-site loopback fleet (src/bench/loopback-fleet.ts:
// three stations, each behind its own site Mosquitto bridged over TLS to a central one). Station a
// is left with an open alarm, station b runs another bundle (swapped in by SIGHUP), station c is
// killed (its broker publishes its last will: offline). The page must show each device's state,
// model, open alarms, outbox backlog and last score as the devices themselves report them, and link
// to each device's dashboard. Screenshots go to test-screenshots/ (git-ignored).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { DEMO_BUNDLE, LoopbackFleet, alternatingImages, waitUntil } from '../helpers/fleet.js';
import { TINY_ARCH, exportBundle, writeArch, writeBytesOnlyVocab } from '../helpers/export-bundle.js';
import { freePort } from '../helpers/mosquitto.js';
import { ROOT } from '../helpers/shared.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = join(ROOT, 'test-screenshots');
const SITES = [
  { siteId: 'site-a', lineId: 'line-1' },
  { siteId: 'site-b', lineId: 'line-2' },
  { siteId: 'site-c', lineId: 'line-3' },
];

interface StatusJson {
  cameras: { id: string; lastScore?: number }[];
  model: { sha256?: string; version?: string };
}

test(
  'the fleet view shows every device of the loopback fleet in Chromium',
  { timeout: 600_000 },
  async () => {
    assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: scripts/setup.sh installs it`);
    assert.ok(
      existsSync(join(DEMO_BUNDLE, 'manifest.json')),
      `demo bundle missing at ${DEMO_BUNDLE}: run scripts/setup.sh`,
    );
    mkdirSync(SHOTS, { recursive: true });
    const fleet = new LoopbackFleet(SITES);
    after(() => fleet.stop());
    const diag = () => fleet.diagnostics();
    const images = alternatingImages(fleet.dir);
    // the bundle station b is switched to: another sha256 and a version name
    const other = exportBundle(join(fleet.dir, 'bundle-v2'), [
      '--random-init',
      '11',
      '--arch',
      writeArch(join(fleet.dir, 'arch'), TINY_ARCH),
      '--image-size',
      '84',
      '--vocab',
      writeBytesOnlyVocab(join(fleet.dir, 'vocab.txt.gz')),
      '--bundle-version',
      'tiny-v2',
    ]);
    const shaOf = (dir: string) =>
      (
        JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
          files: Record<string, { sha256: string }>;
        }
      ).files['model.onnx'].sha256;
    const demoSha = shaOf(DEMO_BUNDLE);
    const otherSha = shaOf(other);

    await fleet.startBrokers();
    const source = `{ kind: trigger, http: true, inner: { kind: folder, path: ${images.folder}, loop: true } }`;
    await fleet.startStations({ source, imageThreshold: images.threshold });
    const [a, b, c] = fleet.stations;

    // The fleet view, as a user starts it, on the central's plain listener.
    const port = await freePort();
    let viewLog = '';
    const view = spawn(
      process.execPath,
      [join(ROOT, 'dist/src/cli/main.js'), 'fleet', '--broker', fleet.centralUrl, '--port', String(port)],
      {
        cwd: ROOT,
      },
    );
    after(() => view.kill('SIGKILL'));
    view.stdout.on('data', (d: Buffer) => (viewLog += d.toString()));
    view.stderr.on('data', (d: Buffer) => (viewLog += d.toString()));
    const url = `http://127.0.0.1:${port}`;
    type Fleet = {
      devices: {
        base: string;
        online?: boolean;
        openAlarms: number;
        model?: { sha256: string; version: string };
        outbox?: { pending: number };
        cameras: { id: string; lastScore?: number }[];
      }[];
    };
    const fleetJson = async (): Promise<Fleet | undefined> =>
      fetch(`${url}/api/fleet`).then(
        (r) => r.json() as Promise<Fleet>,
        () => undefined,
      );
    let snapshot: Fleet | undefined;
    const poll = async (what: string, ok: (f: Fleet) => boolean) => {
      const deadline = Date.now() + 120_000;
      for (;;) {
        snapshot = await fleetJson();
        if (snapshot && ok(snapshot)) return snapshot;
        if (Date.now() > deadline || view.exitCode !== null)
          throw new Error(
            `fleet view: timed out waiting for ${what}\n${JSON.stringify(snapshot)}\n${viewLog}\n${diag()}`,
          );
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    const dev = (f: Fleet, st: typeof a) => f.devices.find((d) => d.base === st.centralBase);

    // a: one part (the white image: above the threshold) -> an open alarm. b: two parts -> raised
    // and cleared. c: one part, then killed.
    assert.ok(await a.trigger('a-1'));
    assert.ok(await b.trigger('b-1'));
    assert.ok(await b.trigger('b-2'));
    assert.ok(await c.trigger('c-1'));
    for (const [st, n] of [
      [a, 1],
      [b, 2],
      [c, 1],
    ] as const)
      await waitUntil(
        `${st.centralBase} to accept ${n} events`,
        () => (st.acceptedIds.size === n ? true : undefined),
        60_000,
        diag,
      );
    // b changes its bundle without a restart (SIGHUP after its config names the other bundle)
    const bConfig = join(b.dir, 'config.yaml');
    writeFileSync(
      bConfig,
      readFileSync(bConfig, 'utf8').replace(`bundle: ${DEMO_BUNDLE}`, `bundle: ${other}`),
    );
    b.proc!.kill('SIGHUP');
    // c vanishes: its site broker publishes its last will (offline), which the bridge forwards
    c.proc!.kill('SIGKILL');

    await poll('3 devices: a with an open alarm, b on the other bundle, c offline', (f) => {
      const [da, db, dc] = [dev(f, a), dev(f, b), dev(f, c)];
      return (
        f.devices.length === 3 &&
        da?.online === true &&
        da.openAlarms === 1 &&
        db?.online === true &&
        db.model?.sha256 === otherSha &&
        db.openAlarms === 0 &&
        dc?.online === false &&
        [da, db, dc].every((d) => d.outbox !== undefined && d.cameras[0]?.lastScore !== undefined)
      );
    });

    // What the devices say about themselves over HTTP (not through MQTT): the expected page content.
    const statusOf = async (st: typeof a) =>
      (await (await fetch(`${st.url}/api/status`)).json()) as StatusJson;
    const expected = {
      a: await statusOf(a),
      b: await statusOf(b),
    };
    assert.equal(expected.a.model.sha256, demoSha);
    assert.equal(expected.b.model.sha256, otherSha);
    assert.equal(expected.b.model.version, 'tiny-v2');

    const userDataDir = mkdtempSync(join(tmpdir(), 'fleet-chromium-'));
    after(() => rmSync(userDataDir, { recursive: true, force: true }));
    const browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 600 },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic',
        '--no-first-run',
      ],
    });
    try {
      const page = await browser.newPage();
      await page.goto(url);
      const row = (st: typeof a) => page.locator(`tr[data-device="${st.centralBase}"]`);
      for (const st of [a, b, c]) await row(st).waitFor({ timeout: 30_000 });
      assert.equal(await page.locator('tbody#devices tr').count(), 3);

      assert.equal(await row(a).locator('.device-status').innerText(), 'online');
      assert.equal(await row(b).locator('.device-status').innerText(), 'online');
      assert.equal(await row(c).locator('.device-status').innerText(), 'offline');
      // open alarms: a has one, b's was cleared
      assert.equal(await row(a).locator('.alarm-open').count(), 1);
      assert.equal(await row(b).locator('.alarm-open').count(), 0);
      // models: version and the start of the sha256, the odd one out marked
      const modelA = await row(a).locator('.model').innerText();
      assert.ok(modelA.includes(demoSha.slice(0, 12)), modelA);
      const modelB = await row(b).locator('.model').innerText();
      assert.ok(modelB.includes('tiny-v2') && modelB.includes(otherSha.slice(0, 12)), modelB);
      assert.equal(await row(b).locator('.model.odd').count(), 1, 'b runs another model than the others');
      // outbox backlog: all delivered
      for (const st of [a, b])
        assert.equal(await row(st).locator('.outbox').getAttribute('data-pending'), '0');
      // the last score, as the device's own status gives it
      for (const [st, s] of [
        [a, expected.a],
        [b, expected.b],
      ] as const) {
        const want = s.cameras[0].lastScore!.toFixed(3);
        assert.equal(await row(st).locator('[data-camera="cam1"] .score').innerText(), want, st.centralBase);
      }
      // links to each device's dashboard
      for (const st of [a, b, c])
        assert.equal(await row(st).locator('a.dashboard').getAttribute('href'), st.url);
      await page.screenshot({ path: join(SHOTS, 'fleet-view.png'), fullPage: true });

      // the link opens device a's dashboard, which shows its camera
      const [dashboard] = await Promise.all([
        browser.waitForEvent('page'),
        row(a).locator('a.dashboard').click(),
      ]);
      await dashboard.locator('[data-camera="cam1"]').waitFor({ timeout: 30_000 });
      await dashboard.screenshot({ path: join(SHOTS, 'fleet-device-dashboard.png') });
    } finally {
      await browser.close();
    }

    // read-only: nothing but GET
    const post = await fetch(`${url}/api/fleet`, { method: 'POST' });
    assert.equal(post.status, 404);
    view.kill('SIGTERM');
    assert.equal(await new Promise((r) => view.once('exit', r)), 0, viewLog);
  },
);
