// The retained `<base>/info` document: who this device is, for a fleet view over many devices
// (`adaclip-edge fleet`, docs/fleet-view.md) and for audits: site, line, software version, the
// model bundle in use, the cameras, and where its dashboard is reached. Published at start and after
// every reload or model swap.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { MqttLink } from '../mqtt/mqtt-link.js';
import type { Logger } from '../util/log.js';
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

/** Publishes the retained `<base>/info`; a failure is logged (the next change publishes it again). */
export function publishDeviceInfo(
  mqtt: MqttLink,
  d: Pick<DeviceInfo, 'startedAt' | 'model' | 'cameras'> & { cfg: Config; dashboardAddress?: string },
  logger: Logger,
): void {
  const info: DeviceInfo = {
    site: d.cfg.site,
    line: d.cfg.line,
    software: softwareVersion(),
    startedAt: d.startedAt,
    model: d.model,
    cameras: [...d.cameras],
    ...(d.dashboardAddress !== undefined && {
      dashboardUrl: dashboardUrl(d.cfg.dashboard, d.dashboardAddress),
    }),
  };
  void mqtt.publishInfo(info).catch((err: unknown) => logger.warn({ err }, 'device info'));
}
