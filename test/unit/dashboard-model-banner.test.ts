// What the dashboard says about the model (issue 11): the red UNTRAINED banner for an untrained-test
// bundle, the "Demo model: trained on the synthetic line only, ..." banner for a synthetic-trained
// one, neither for a released checkpoint; served over HTTP by the real DashboardServer on every page,
// and on an event's detail page the kind with its note and what it was trained on. (The browser
// test test/e2e/dashboard.test.ts checks the untrained banner on a running demo.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DashboardServer } from '../../src/dashboard/server.js';
import { eventDetailPage } from '../../src/dashboard/pages/detail-pages.js';
import type { DashboardSource, ServiceStatus } from '../../src/dashboard/types.js';
import type { ModelProvenance } from '../../src/events/provenance.js';
import { createLogger } from '../../src/util/log.js';
import { CONTEXT } from '../helpers/documents.js';
import { stubDashboardSource } from '../helpers/dashboard-source.js';
import { buildEvent } from '../../src/events/anomaly-event.js';

const NOTE = 'trained on the synthetic line only, not the released AdaCLIP weights';

function source(model: ServiceStatus['model']): DashboardSource {
  const status = (): ServiceStatus => ({
    site: 'plant',
    line: 'l1',
    startedAt: new Date(0).toISOString(),
    model,
    mqtt: { connected: true, url: 'mqtt://x' },
    cameras: [],
  });
  return stubDashboardSource(status);
}

async function pageOf(model: ServiceStatus['model'], path = '/'): Promise<string> {
  const s = new DashboardServer(
    {
      host: '127.0.0.1',
      port: 0,
      auth: 'none',
      users: [],
      session: { ttlH: 1, idleMin: 10, max: 10, secureCookie: false },
      allowedHosts: [],
      maxLiveConnections: 4,
    },
    source(model),
    createLogger({ level: 'silent', pretty: 'never' }),
  );
  await s.start();
  try {
    const r = await fetch(`${s.address}${path}`);
    assert.equal(r.status, 200, path);
    return await r.text();
  } finally {
    await s.stop();
  }
}

const base = { backend: 'onnxruntime (cpu)', hsf: 'cpu', sha256: 'ab'.repeat(32), version: 'unversioned' };

test('a synthetic-trained bundle: the demo-model banner with its note on every page, not the untrained one', async () => {
  const model = {
    ...base,
    bundle: 'models/bundles/demo-synthetic',
    provenance: 'synthetic-trained',
    untrained: false,
    demoNote: NOTE,
  };
  for (const path of ['/', '/events', '/results', '/reviews']) {
    const page = await pageOf(model, path);
    assert.match(
      page,
      /<div class="banner demo-model" id="demo-model">Demo model: trained on the synthetic line only, not the released AdaCLIP weights<\/div>/,
      path,
    );
    assert.doesNotMatch(page, /id="untrained"/, path);
    assert.match(
      page,
      /model <b>demo-synthetic<\/b>[\s\S]*synthetic-trained/,
      `${path}: the provenance line`,
    );
  }
});

test('an untrained bundle: the UNTRAINED banner, no demo-model banner; a checkpoint: neither', async () => {
  const untrained = await pageOf({
    ...base,
    bundle: 'models/bundles/demo-untrained',
    provenance: 'untrained-test',
    untrained: true,
  });
  assert.match(
    untrained,
    /id="untrained"[^>]*>\s*UNTRAINED MODEL: this bundle has random weights \(untrained-test\)/,
  );
  assert.doesNotMatch(untrained, /id="demo-model"/);
  const released = await pageOf({
    ...base,
    bundle: 'models/bundles/vitl',
    provenance: 'checkpoint',
    untrained: false,
  });
  assert.doesNotMatch(released, /id="untrained"|id="demo-model"|Demo model/);
});

test("an event's detail page names the kind, its note and what the model was trained on", () => {
  const model: ModelProvenance = {
    ...CONTEXT.model,
    kind: 'synthetic-trained',
    untrained: false,
    checkpoints: {
      clip: { file: 'demo-synthetic-clip.pt', sha256: 'c'.repeat(64) },
      adaclip: { file: 'demo-synthetic-adaclip.pt', sha256: 'd'.repeat(64) },
    },
    training: {
      note: NOTE,
      kinds: ['nut', 'screw'],
      trainSeeds: [1, 2],
      steps: 600,
      trainingSeconds: 1134.2,
      recordSha256: '7'.repeat(64),
    },
  };
  const at = Date.UTC(2026, 0, 2);
  const event = buildEvent({
    transition: 'raise',
    active: true,
    site: 'plant',
    line: 'l1',
    cameraId: 'cam1',
    frameSeq: 1,
    capturedAtWall: at,
    decidedAtWall: at + 5,
    className: 'screw',
    score: 0.9,
    scoreWithoutHsf: 0.8,
    thresholds: { image: 0.5, pixel: 0.5, clear: 0.5, minRegionAreaPct: 0 },
    anomalous: true,
    severity: 'warning',
    alarm: { raisedAtWall: at, peakScore: 0.9, frames: 1 },
    window: { k: 1, n: 1, hits: 1 },
    regions: [],
    regionCount: 0,
    model,
  });
  const status: ServiceStatus = {
    site: 'plant',
    line: 'l1',
    startedAt: new Date(0).toISOString(),
    model: { ...base, bundle: 'b', provenance: 'synthetic-trained', untrained: false, demoNote: NOTE },
    mqtt: { connected: true, url: 'mqtt://x' },
    cameras: [],
  };
  const text = eventDetailPage(
    { status, auth: 'users', readOnly: true, canAct: false, signInEnabled: false },
    event,
  ).toString();
  assert.match(
    text,
    /synthetic-trained \(Demo model: trained on the synthetic line only, not the released AdaCLIP weights\)/,
  );
  assert.match(text, /nut, screw · synth seeds 1, 2 · 600 steps · 1134 s · record sha256 777777777777/);
  assert.match(text, /demo-synthetic-adaclip\.pt/);
  assert.doesNotMatch(text, /random weights/);
});
