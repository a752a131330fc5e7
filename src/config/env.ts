// Environment overrides, in the style of zigbee2mqtt: ADACLIP_EDGE__MQTT__PASSWORD=... sets
// mqtt.password. Segments are separated by "__" and matched case-insensitively against the keys
// already in the file or known to the schema, so secrets never need to be written in the YAML.
export const ENV_PREFIX = 'ADACLIP_EDGE__';

const KNOWN_KEYS = [
  'site',
  'line',
  'stateDir',
  'drainTimeoutMs',
  'bdSeqFile',
  'history',
  'reviewsDir',
  'classNameCacheSize',
  'allowDisable',
  'log',
  'level',
  'pretty',
  'model',
  'bundle',
  'engine',
  'backend',
  'providers',
  'threads',
  'maxBatch',
  'precision',
  'engineCacheDir',
  'hsf',
  'enabled',
  'device',
  'mqtt',
  'url',
  'clientId',
  'protocolVersion',
  'username',
  'password',
  'passwordFile',
  'tls',
  'ca',
  'cert',
  'key',
  'rejectUnauthorized',
  'servername',
  'baseTopic',
  'keepaliveS',
  'qos',
  'outbox',
  'path',
  'maxEvents',
  'overflow',
  'sparkplug',
  'groupId',
  'edgeNodeId',
  'primaryHostId',
  'dashboard',
  'host',
  'port',
  'snapshots',
  'dir',
  'pipeline',
  'embedded',
  'statsIntervalS',
];

export interface EnvOverrideResult {
  value: Record<string, unknown>;
  applied: string[];
}

export function applyEnvOverrides(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): EnvOverrideResult {
  const value = structuredClone(raw);
  const applied: string[] = [];
  for (const [name, text] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || text === undefined) continue;
    const segments = name.slice(ENV_PREFIX.length).split('__').filter(Boolean);
    if (segments.length === 0) continue;
    let cur: Record<string, unknown> = value;
    const path: string[] = [];
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i];
      const isIndex = /^\d+$/.test(seg);
      const key = isIndex ? seg : matchKey(cur, seg);
      path.push(key);
      if (i === segments.length - 1) {
        cur[key] = parseScalar(text);
      } else {
        if (typeof cur[key] !== 'object' || cur[key] === null) cur[key] = {};
        cur = cur[key] as Record<string, unknown>;
      }
    }
    applied.push(path.join('.').replace(/\.(\d+)(?=\.|$)/g, '[$1]'));
  }
  return { value, applied };
}

function matchKey(obj: Record<string, unknown>, seg: string): string {
  const lower = seg.toLowerCase();
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lower) return k;
  for (const k of KNOWN_KEYS) if (k.toLowerCase() === lower) return k;
  return seg.toLowerCase();
}

// Numbers and booleans are typed so that PORT=1884 validates as a number; everything else stays text.
function parseScalar(text: string): unknown {
  if (/^(true|false)$/i.test(text)) return text.toLowerCase() === 'true';
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  return text;
}
