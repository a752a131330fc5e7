// The metric names the shipped Grafana dashboard (deploy/grafana/adaclip-edge.json) queries, and the
// metric families a /metrics text declares, for the tests that check the one against the other.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './fixtures.js';

export const GRAFANA_DASHBOARD = join(ROOT, 'deploy', 'grafana', 'adaclip-edge.json');

/** Every adaclip_* metric named in a panel expression or a template query (histogram series mapped to their family). */
export function grafanaMetricNames(): string[] {
  const dash = JSON.parse(readFileSync(GRAFANA_DASHBOARD, 'utf8')) as {
    panels: { targets: { expr: string }[] }[];
    templating: { list: { query: { query: string } }[] };
  };
  const exprs = [
    ...dash.panels.flatMap((p) => p.targets.map((t) => t.expr)),
    ...dash.templating.list.map((v) => v.query.query),
  ];
  const names = new Set<string>();
  for (const e of exprs)
    for (const m of e.matchAll(/\badaclip_[a-z_]+/g)) names.add(m[0].replace(/_(bucket|sum|count)$/, ''));
  return [...names].sort();
}

/** Metric families declared in a Prometheus text exposition (# TYPE lines). */
export function declaredMetrics(text: string): Set<string> {
  return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
}
