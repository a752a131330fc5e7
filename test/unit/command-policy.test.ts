// The command policy: the one rule book every door consults (JSON commands, Sparkplug DCMD writes,
// the dashboard), built from mqtt.commands. Each refusal names the key that would allow it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mqttSchema } from '../../src/config/schema.js';
import { CommandPolicy, NotAllowedError } from '../../src/operator/command-policy.js';
import { OperatorError } from '../../src/operator/types.js';

const policyOf = (commands: unknown) => new CommandPolicy(mqttSchema.parse({ commands }).commands);

test('by default every door may run every command (the behaviour before per-client rules)', () => {
  const p = policyOf({});
  for (const door of ['mqtt', 'sparkplug', 'dashboard'] as const)
    for (const a of [
      'set-class',
      'set-thresholds',
      'suspend',
      'resume',
      'trigger',
      'status',
      'rebirth',
    ] as const)
      assert.ok(p.allows(a, { door }), `${door} ${a}`);
});

test('enabled: false refuses JSON commands and DCMD writes alike, not the dashboard', () => {
  const p = policyOf({ enabled: false });
  assert.throws(() => p.check('set-thresholds', { door: 'mqtt' }), /mqtt\.commands\.enabled/);
  assert.throws(
    () => p.check('set-thresholds', { door: 'sparkplug' }),
    /Sparkplug DCMD.*mqtt\.commands\.enabled/,
  );
  assert.ok(p.allows('set-thresholds', { door: 'dashboard' }));
});

test('the allow-list binds JSON and DCMD the same way; a client rule replaces it for that client', () => {
  const p = policyOf({
    allow: ['status', 'set-class'],
    clients: [
      { clientId: 'line-lead', allow: ['set-thresholds', 'status'] },
      { clientId: 'scada-host', allow: ['set-class'] },
      { user: 'trainee', allow: ['acknowledge'] },
    ],
  });
  for (const door of ['mqtt', 'sparkplug'] as const) {
    assert.ok(p.allows('set-class', { door }), door);
    assert.throws(() => p.check('set-thresholds', { door }), /not allowed over .*\(mqtt\.commands\.allow\)/);
    assert.ok(p.allows('set-thresholds', { door, clientId: 'line-lead' }));
    assert.throws(
      () => p.check('set-class', { door, clientId: 'line-lead' }),
      /not allowed for client "line-lead".*mqtt\.commands\.clients\[0\]\.allow/,
    );
    assert.throws(() => p.check('set-thresholds', { door, clientId: 'scada-host' }), /clients\[1\]/);
    // an unknown client gets the default list
    assert.ok(p.allows('set-class', { door, clientId: 'somebody' }));
    assert.ok(!p.allows('suspend', { door, clientId: 'somebody' }));
  }
  // a user rule is for the dashboard; a dashboard user without one is judged by the dashboard's roles
  assert.ok(p.allows('acknowledge', { door: 'dashboard', user: 'trainee' }));
  assert.throws(() => p.check('set-thresholds', { door: 'dashboard', user: 'trainee' }), /clients\[2\]/);
  assert.ok(p.allows('set-thresholds', { door: 'dashboard', user: 'supervisor' }));
  assert.ok(
    !p.allows('set-thresholds', { door: 'mqtt', clientId: 'trainee' }),
    'a user rule is not a client rule',
  );
});

test('a refusal is a 403 operator error', () => {
  const p = policyOf({ allow: [] });
  try {
    p.check('status', { door: 'mqtt' });
    assert.fail('not refused');
  } catch (err) {
    assert.ok(err instanceof NotAllowedError);
    assert.ok(err instanceof OperatorError);
    assert.equal((err as OperatorError).status, 403);
  }
});

test('config: a rule names exactly one of clientId and user, and only known commands', () => {
  assert.throws(() => mqttSchema.parse({ commands: { clients: [{ allow: ['status'] }] } }), /exactly one/);
  assert.throws(
    () => mqttSchema.parse({ commands: { clients: [{ clientId: 'a', user: 'b', allow: [] }] } }),
    /exactly one/,
  );
  assert.throws(() =>
    mqttSchema.parse({ commands: { clients: [{ clientId: 'a', allow: ['format-disk'] }] } }),
  );
  assert.throws(() => mqttSchema.parse({ commands: { clients: [{ clientId: 'a/b', allow: [] }] } }));
  assert.throws(() => mqttSchema.parse({ commands: { responseTopics: ['replies/#'] } }));
});
