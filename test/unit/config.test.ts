import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { loadConfigFile, parseConfigText, ConfigError } from '../../src/config/load.js';
import { configJsonSchema } from '../../src/config/json-schema.js';
import { ROOT } from '../helpers/fixtures.js';

const minimal = `
model: { bundle: models/bundles/demo-untrained }
cameras:
  - id: cam1
    className: screw
    source: { kind: synthetic }
`;

test('every example config in config/ validates', () => {
  const files = readdirSync(join(ROOT, 'config')).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length >= 3, `expected demo, jetson and multi-camera examples, found ${files}`);
  for (const f of files) {
    const cfg = loadConfigFile(join(ROOT, 'config', f), {});
    assert.ok(cfg.cameras.length >= 1, f);
  }
});

test('defaults fill everything optional', () => {
  const cfg = parseConfigText(minimal, 'minimal.yaml', {});
  assert.equal(cfg.mqtt.url, undefined);
  assert.equal(cfg.mqtt.embedded.port, 1883);
  assert.equal(cfg.mqtt.outbox.overflow, 'drop-oldest');
  assert.equal(cfg.cameras[0].admission.policy, 'latest');
  assert.equal(cfg.cameras[0].thresholds.image, 0.5);
  assert.equal(cfg.model.engine.backend, 'auto');
  assert.equal(cfg.pipeline.maxInFlight, 1);
});

test('a bad config reports every problem with its key, value and expectation', () => {
  const bad = `
model: { bundle: x, engine: { backend: cuda-magic, maxBatch: -1 } }
cameras:
  - id: "bad id!"
    className: screw
    source: { kind: synthetic, fps: "fast" }
    thresholds: { image: 1.5 }
mqtt: { url: "http://nope", protocolVersion: 3 }
`;
  assert.throws(
    () => parseConfigText(bad, 'bad.yaml', {}),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const text = err.problems.join('\n');
      for (const key of [
        'model.engine.backend',
        'model.engine.maxBatch',
        'cameras[0].id',
        'cameras[0].source.fps',
        'cameras[0].thresholds.image',
        'mqtt.url',
        'mqtt.protocolVersion',
      ]) {
        assert.match(
          text,
          new RegExp(key.replace(/[[\].]/g, '\\$&')),
          `missing problem for ${key}:\n${text}`,
        );
      }
      assert.match(text, /cameras\[0\]\.source\.fps: got "fast" \(string\); expected/);
      assert.match(text, /cameras\[0\]\.thresholds\.image: got 1\.5 \(number\)/);
      assert.ok(err.problems.length >= 7, text);
      return true;
    },
  );
});

test('missing required sections are named', () => {
  assert.throws(
    () => parseConfigText('site: x\n', 'empty.yaml', {}),
    (err: unknown) =>
      err instanceof ConfigError &&
      /model: missing/.test(err.message) &&
      /cameras: missing/.test(err.message),
  );
});

test('YAML syntax errors and non-mapping documents are reported, not thrown raw', () => {
  assert.throws(() => parseConfigText('a: [1, 2', 'syntax.yaml', {}), /syntax\.yaml[\s\S]*YAML syntax/);
  assert.throws(() => parseConfigText('- 1\n- 2\n', 'list.yaml', {}), /top level must be a mapping/);
  assert.throws(() => loadConfigFile('/nonexistent/cfg.yaml', {}), /cannot read the file/);
});

test('environment overrides set secrets and typed values, and are named in errors', () => {
  const cfg = parseConfigText(minimal, 'm.yaml', {
    ADACLIP_EDGE__MQTT__PASSWORD: 's3cret',
    ADACLIP_EDGE__MQTT__EMBEDDED__PORT: '1884',
    ADACLIP_EDGE__CAMERAS__0__THRESHOLDS__IMAGE: '0.7',
  });
  assert.equal(cfg.mqtt.password, 's3cret');
  assert.equal(cfg.mqtt.embedded.port, 1884);
  assert.equal(cfg.cameras[0].thresholds.image, 0.7);
  assert.throws(
    () => parseConfigText(minimal, 'm.yaml', { ADACLIP_EDGE__MQTT__KEEPALIVES: 'soon' }),
    /mqtt\.keepaliveS: got "soon" \(string\) \(set by ADACLIP_EDGE__MQTT__KEEPALIVES\)/,
  );
});

test('passwords are never echoed in errors', () => {
  assert.throws(
    () => parseConfigText(minimal + 'mqtt: { password: 12345 }\n', 'p.yaml', {}),
    (err: unknown) =>
      err instanceof Error && /mqtt\.password: got "\*\*\*"/.test(err.message) && !/12345/.test(err.message),
  );
});

test('passwordFile is read', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  writeFileSync(join(dir, 'pw'), 'from-file\n');
  const cfg = parseConfigText(minimal + `mqtt: { passwordFile: ${join(dir, 'pw')} }\n`, 'p.yaml', {});
  assert.equal(cfg.mqtt.password, 'from-file');
});

test('duplicate camera ids are refused', () => {
  const dup = minimal + `  - id: cam1\n    className: nut\n    source: { kind: synthetic }\n`;
  assert.throws(() => parseConfigText(dup, 'dup.yaml', {}), /camera ids must be unique/);
});

test('config/adaclip-edge.schema.json is generated from the zod schema and up to date', () => {
  const committed = JSON.parse(readFileSync(join(ROOT, 'config', 'adaclip-edge.schema.json'), 'utf8'));
  assert.deepEqual(committed, JSON.parse(JSON.stringify(configJsonSchema())), 'run `npm run schema`');
  const props = (committed as { properties: Record<string, unknown> }).properties;
  assert.ok(props.cameras && props.mqtt && props.model);
});
