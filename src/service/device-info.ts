// The retained `<base>/info` document: who this device is, for a fleet view over many devices
// (`adaclip-edge fleet`, docs/fleet-view.md) and for audits: site, line, software version, the
// model bundle in use, the cameras, and where its dashboard is reached.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { repoRoot } from '../util/paths.js';

export interface DeviceInfo {
  site: string;
  line: string;
  software: string;
  startedAt: string;
  model: { sha256: string; version: string; bundle: string };
  cameras: string[];
  /** Absent when the dashboard is off. */
  dashboardUrl?: string;
  [key: string]: unknown;
}

let version: string | undefined;
/** adaclip-edge's version (package.json). */
export function softwareVersion(): string {
  version ??= (JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { version: string })
    .version;
  return `adaclip-edge ${version}`;
}

/**
 * The dashboard's address for people elsewhere: dashboard.publicUrl when set; else its listening
 * address, with this machine's host name in place of a wildcard host (0.0.0.0, ::).
 */
export function dashboardUrl(cfg: Config['dashboard'], listening: string): string {
  if (cfg.publicUrl) return cfg.publicUrl;
  const port = new URL(listening).port;
  const wildcard = ['0.0.0.0', '::', '[::]', ''].includes(cfg.host);
  return wildcard ? `http://${hostname()}:${port}` : listening;
}
