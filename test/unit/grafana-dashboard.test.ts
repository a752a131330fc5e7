// The shipped Grafana dashboard queries only metrics the service exposes (the running service is
// checked too, in test/integration/results-trigger-500.test.ts), and is a well-formed dashboard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Metrics } from '../../src/metrics/prometheus.js';
import { GRAFANA_DASHBOARD, declaredMetrics, grafanaMetricNames } from '../helpers/grafana.js';

test('every metric the Grafana dashboard queries exists in /metrics output', async () => {
  const names = grafanaMetricNames();
  assert.ok(names.length >= 15, `the dashboard reads ${names.length} metrics`);
  const declared = declaredMetrics(await new Metrics({ processMetrics: false }).registry.metrics());
  const missing = names.filter((n) => !declared.has(n));
  assert.deepEqual(missing, [], `queried but not exposed: ${missing.join(', ')}`);
  // the operator's loop is on the dashboard
  for (const n of [
    'adaclip_results_total',
    'adaclip_frames_dropped_total',
    'adaclip_outbox_depth',
    'adaclip_acknowledgements_total',
  ])
    assert.ok(names.includes(n), n);
});

test('the dashboard is well formed: unique panel ids, a datasource input, the camera variable', () => {
  const d = JSON.parse(readFileSync(GRAFANA_DASHBOARD, 'utf8'));
  const ids = d.panels.map((p: { id: number }) => p.id);
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(d.__inputs[0].pluginId, 'prometheus');
  for (const p of d.panels) {
    assert.ok(p.targets.length > 0, p.title);
    assert.ok(p.gridPos.w > 0 && p.gridPos.h > 0, p.title);
    assert.equal(p.datasource.uid, '${DS_PROMETHEUS}');
  }
  assert.equal(d.templating.list[0].name, 'camera');
});
