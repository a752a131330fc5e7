// The dashboard in a real browser (Debian's Chromium driven by playwright-core): the service runs
// the demo bundle on a synthetic camera; the page must show the camera, its live score, the
// untrained-model banner and incoming events, and the HTTP API must refuse bad requests clearly.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { freePort } from '../helpers/mosquitto.js';
import { ROOT } from '../helpers/fixtures.js';
import { requireDemoBundle, requireFile } from '../helpers/require-tools.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const BUNDLE = join(ROOT, 'models', 'bundles', 'demo-untrained');

let service: ChildProcess | undefined;
after(() => service?.kill('SIGKILL'));

test(
  'dashboard shows cameras, scores, the untrained banner and live events',
  { timeout: 150_000 },
  async () => {
    requireFile(
      CHROMIUM,
      'Chromium',
      'this test needs Debian chromium (or CHROMIUM_PATH); scripts/setup.sh installs it',
    );
    requireDemoBundle(BUNDLE);
    const dir = mkdtempSync(join(tmpdir(), 'dash-'));
    const httpPort = await freePort();
    const cfg = join(dir, 'cfg.yaml');
    writeFileSync(
      cfg,
      `model: { bundle: ${BUNDLE}, engine: { backend: onnxruntime } }
cameras:
  - id: line-cam
    className: screw
    source: { kind: synthetic, width: 640, height: 480, fps: 6, seed: 5 }
    # 0: every frame of the untrained model is anomalous, so an alarm is raised at once
    thresholds: { image: 0.0, pixel: 0.99 }
mqtt: { embedded: { port: ${await freePort()} }, outbox: { path: ${join(dir, 'outbox.sqlite')} } }
snapshots: { dir: ${join(dir, 'snaps')} }
dashboard: { port: ${httpPort} }
log: { pretty: never }
`,
    );
    let out = '';
    service = spawn(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), 'run', '--config', cfg], {
      cwd: ROOT,
    });
    service.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    service.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const base = `http://127.0.0.1:${httpPort}`;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ok = await fetch(`${base}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline || service.exitCode !== null)
        throw new Error(`dashboard never came up:\n${out}`);
      await new Promise((r) => setTimeout(r, 250));
    }

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    try {
      const page = await browser.newPage();
      await page.goto(base);
      await page.locator('[data-camera="line-cam"]').waitFor({ timeout: 30_000 });
      await page.locator('#untrained').waitFor({ state: 'visible', timeout: 10_000 });
      // a score appears once the first frame went through the model
      await page.waitForFunction(
        `/\\d\\.\\d{3}/.test(document.querySelector('[data-camera="line-cam"] .score')?.textContent ?? '')`,
        null,
        {
          timeout: 60_000,
        },
      );
      // the raised alarm arrives over server-sent events (or the initial list), with its overlay snapshot
      await page.locator('#events tr').first().waitFor({ timeout: 60_000 });
      const row = await page.locator('#events tr').first().innerText();
      assert.match(row, /line-cam/);
      assert.match(row, /raise/);
      const img = page.locator('#events tr img').first();
      await img.waitFor({ timeout: 10_000 });
      const natural = await img.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth);
      assert.ok(natural > 0, 'overlay snapshot image loads');
      await page.screenshot({ path: process.env.DASHBOARD_SCREENSHOT ?? join(dir, 'dashboard.png') });
    } finally {
      await browser.close();
    }

    // the API validates what it is given
    const bad = await fetch(`${base}/api/cameras/no%20such/trigger`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /camera id/);
    const notTrigger = await fetch(`${base}/api/cameras/line-cam/trigger`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(notTrigger.status, 409);
    const unknown = await fetch(`${base}/api/cameras/ghost/trigger`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(unknown.status, 404);
    const junk = await fetch(`${base}/api/cameras/line-cam/trigger`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"partId": 5, "x": 1}',
    });
    assert.equal(junk.status, 400);
    const limit = await fetch(`${base}/api/events?limit=abc`);
    assert.equal(limit.status, 400);
    const snap = await fetch(`${base}/api/snapshots/..%2F..%2Fetc%2Fpasswd`);
    assert.equal(snap.status, 400);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /adaclip_frames_inspected_total\{camera="line-cam"\} [1-9]/);
    assert.match(metrics, /adaclip_events_total\{camera="line-cam",severity="\w+"\} [1-9]/);

    service.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => service!.once('exit', r));
    assert.equal(code, 0, out);
  },
);
