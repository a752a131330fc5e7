// Turns the mqtt config section into mqtt.js client options: credentials from the config, the
// environment (ADACLIP_EDGE__MQTT__PASSWORD, applied by the config loader) or a file, and TLS
// material read from files. Errors name the config key and the file, never a secret's value.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { IClientOptions } from 'mqtt';
import type { MqttConfig } from '../config/schema.js';
import { redactUrl } from '../util/redact.js';

export interface ResolvedMqttSettings {
  url: string;
  protocolVersion: 4 | 5;
  clientId: string;
  keepaliveS: number;
  username?: string;
  /** Secret: never log this object as a whole. */
  password?: string;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean; servername?: string };
}

export function defaultClientId(suffix = ''): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9_-]/g, '')
      .slice(0, 32) || 'host';
  return `adaclip-edge-${host}${suffix}`.slice(0, 64);
}

/**
 * Reads the password file and the TLS files named in the config. `url` overrides mqtt.url (the
 * embedded broker's URL); `protocolVersion` overrides the configured one (aedes speaks 3.1.1 only).
 */
export function resolveMqttSettings(
  cfg: MqttConfig,
  override: { url?: string; clientId?: string; protocolVersion?: 4 | 5 } = {},
): ResolvedMqttSettings {
  const url = override.url ?? cfg.url;
  if (!url) throw new Error('mqtt.url: no broker URL (and no embedded broker started)');
  let password = cfg.password;
  if (cfg.passwordFile) {
    password = readSecretFile(cfg.passwordFile, 'mqtt.passwordFile')
      .toString('utf8')
      .replace(/\r?\n$/, '');
    if (password.length === 0) throw new Error(`mqtt.passwordFile: ${cfg.passwordFile} is empty`);
  }
  if (password !== undefined && cfg.username === undefined) {
    throw new Error('mqtt.username: a password is configured but no username (MQTT needs both)');
  }
  const tls = cfg.tls
    ? {
        ca: cfg.tls.ca ? readSecretFile(cfg.tls.ca, 'mqtt.tls.ca') : undefined,
        cert: cfg.tls.cert ? readSecretFile(cfg.tls.cert, 'mqtt.tls.cert') : undefined,
        key: cfg.tls.key ? readSecretFile(cfg.tls.key, 'mqtt.tls.key') : undefined,
        rejectUnauthorized: cfg.tls.rejectUnauthorized,
        servername: cfg.tls.servername,
      }
    : undefined;
  if (tls && (tls.cert === undefined) !== (tls.key === undefined)) {
    throw new Error('mqtt.tls: a client certificate needs both mqtt.tls.cert and mqtt.tls.key');
  }
  if (tls && /^(mqtt|tcp|ws):\/\//.test(url)) {
    throw new Error(
      `mqtt.tls is set but mqtt.url "${redactUrl(url)}" is not a TLS URL (use mqtts:// or wss://)`,
    );
  }
  return {
    url,
    protocolVersion: override.protocolVersion ?? cfg.protocolVersion,
    clientId: override.clientId ?? cfg.clientId ?? defaultClientId(),
    keepaliveS: cfg.keepaliveS,
    username: cfg.username,
    password,
    tls,
  };
}

/** mqtt.js options for these settings (reconnect and will are added by the connection). */
export function toClientOptions(s: ResolvedMqttSettings): IClientOptions {
  const opts: IClientOptions = {
    protocolVersion: s.protocolVersion,
    clientId: s.clientId,
    keepalive: s.keepaliveS,
    connectTimeout: 10_000,
  };
  if (s.username !== undefined) opts.username = s.username;
  if (s.password !== undefined) opts.password = s.password;
  if (s.tls) {
    if (s.tls.ca) opts.ca = s.tls.ca;
    if (s.tls.cert) opts.cert = s.tls.cert;
    if (s.tls.key) opts.key = s.tls.key;
    opts.rejectUnauthorized = s.tls.rejectUnauthorized;
    if (s.tls.servername) opts.servername = s.tls.servername;
  }
  return opts;
}

function readSecretFile(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(`${key}: cannot read "${path}" (${e.code ?? e.message})`);
  }
}
