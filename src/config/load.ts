// Reads one YAML file, applies environment overrides, validates against the zod schema and
// reports every problem at once with its key, the value found and what was expected.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { configSchema, type Config } from './schema.js';
import { applyEnvOverrides, ENV_PREFIX } from './env.js';
import { resolveStatePaths } from './state-paths.js';

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`invalid config ${file}:\n` + problems.map((p) => `  - ${p}`).join('\n'));
    this.name = 'ConfigError';
  }
}

export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [`cannot read the file: ${(err as Error).message}`]);
  }
  // relative state paths resolve against the config file's folder, never the working directory
  return parseConfigText(text, file, env, dirname(resolve(file)));
}

export function parseConfigText(
  text: string,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  /** Where a relative stateDir resolves (the config file's folder; default the working directory). */
  baseDir = process.cwd(),
): Config {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => `YAML syntax: ${e.message.split('\n')[0]}`),
    );
  }
  let raw: unknown;
  try {
    // an alias without its anchor, or too many aliases (a "billion laughs" file), throws here
    raw = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (err) {
    throw new ConfigError(file, [`YAML: ${(err as Error).message}`]);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(file, ['the top level must be a mapping of keys (site, model, cameras, ...)']);
  }
  const overridden = applyEnvOverrides(raw as Record<string, unknown>, env);
  return validateConfig(overridden.value, file, overridden.applied, baseDir);
}

export function validateConfig(
  raw: unknown,
  file = '<config>',
  envKeys: string[] = [],
  baseDir = process.cwd(),
): Config {
  const result = configSchema.safeParse(raw);
  if (result.success) return resolveStatePaths(resolveSecrets(result.data, file), baseDir);
  const problems = result.error.issues.map((issue) => describeIssue(issue, raw, envKeys));
  throw new ConfigError(file, problems);
}

function resolveSecrets(cfg: Config, file: string): Config {
  if (cfg.mqtt.passwordFile && cfg.mqtt.password === undefined) {
    try {
      cfg.mqtt.password = readFileSync(cfg.mqtt.passwordFile, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new ConfigError(file, [
        `mqtt.passwordFile: cannot read ${JSON.stringify(cfg.mqtt.passwordFile)}: ${(err as Error).message}`,
      ]);
    }
  }
  return cfg;
}

const SECRET_KEYS = /password|secret|token|key$/i;

function describeIssue(issue: z.core.$ZodIssue, raw: unknown, envKeys: string[]): string {
  const key = formatPath(issue.path);
  const value = valueAt(raw, issue.path);
  const lastKey = String(issue.path[issue.path.length - 1] ?? '');
  const shown = SECRET_KEYS.test(lastKey) && value !== undefined ? '"***"' : describeValue(value);
  const fromEnv = envKeys.includes(key)
    ? ` (set by ${ENV_PREFIX}${key.toUpperCase().replace(/\./g, '__')})`
    : '';
  let expected = plainExpectation(issue.message);
  if (issue.code === 'invalid_union' && 'note' in issue && issue.note === 'No matching discriminator') {
    expected = `one of the known kinds (${describeDiscriminator(issue)})`;
  } else if (issue.code === 'invalid_union') {
    const literals = unionLiterals(issue);
    if (literals.length) expected = `one of ${literals.join(', ')}`;
  }
  if (issue.code === 'unrecognized_keys') {
    return `${key || '<top level>'}: unknown key(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
  }
  if (value === undefined && issue.code === 'invalid_type') {
    return `${key}: missing; expected ${issue.expected}`;
  }
  return `${key || '<top level>'}: got ${shown}${fromEnv}; expected ${expected}`;
}

// zod's messages are written for developers ("Invalid option: expected one of ..."); keep the useful part.
function plainExpectation(message: string): string {
  return message
    .replace(/^Invalid option: expected /, '')
    .replace(/^Invalid input: expected /, '')
    .replace(/^Too (big|small): expected (\w+) to (be|have) /, '$2 ');
}

function unionLiterals(issue: z.core.$ZodIssue): string[] {
  const branches = (issue as { errors?: z.core.$ZodIssue[][] }).errors ?? [];
  const values: string[] = [];
  for (const branch of branches) {
    for (const sub of branch) {
      if (sub.code !== 'invalid_value') return [];
      values.push(...sub.values.map((v) => JSON.stringify(v)));
    }
  }
  return values;
}

function describeDiscriminator(issue: z.core.$ZodIssue): string {
  const opts = (issue as { options?: unknown[] }).options;
  return Array.isArray(opts) ? opts.map(String).join(', ') : 'see the schema';
}

function formatPath(path: PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += (out ? '.' : '') + String(p);
  }
  return out;
}

function valueAt(raw: unknown, path: PropertyKey[]): unknown {
  let cur: unknown = raw;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  const json = JSON.stringify(v);
  const text = json === undefined ? String(v) : json.length > 60 ? json.slice(0, 57) + '...' : json;
  const type = Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v;
  return `${text} (${type})`;
}
