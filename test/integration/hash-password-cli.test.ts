// `adaclip-edge hash-password`: the password piped on stdin (one line), the hash or the whole
// dashboard.users entry on stdout; the entry is valid YAML that the config accepts and its hash
// verifies the password; a short password is refused with a message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parse } from 'yaml';
import { validateConfig } from '../../src/config/load.js';
import { parseHash, verifyPassword } from '../../src/util/password-hash.js';
import { ROOT } from '../helpers/shared.js';

const CLI = join(ROOT, 'dist/src/cli/main.js');
const run = (args: string[], input: string) =>
  spawnSync(process.execPath, [CLI, 'hash-password', ...args], { input, encoding: 'utf8' });

test('hash-password: a hash from stdin, a users entry the config takes, short passwords refused', async () => {
  const plain = run([], 'pa55 word with spaces\n');
  assert.equal(plain.status, 0, plain.stderr);
  const hash = plain.stdout.trim();
  assert.equal(
    await verifyPassword('pa55 word with spaces', parseHash(hash)),
    true,
    'the newline is not part of it',
  );
  assert.equal(await verifyPassword('pa55 word with spaces\n', parseHash(hash)), false);

  const entry = run(['--user', 'ann.o@plant', '--role', 'viewer'], 'another-secret');
  assert.equal(entry.status, 0, entry.stderr);
  const users = parse(`users:\n  ${entry.stdout.trim()}\n`).users as {
    name: string;
    role: string;
    passwordHash: string;
  }[];
  assert.deepEqual([users[0].name, users[0].role], ['ann.o@plant', 'viewer']);
  assert.equal(await verifyPassword('another-secret', parseHash(users[0].passwordHash)), true);
  const cfg = validateConfig({
    model: { bundle: 'b' },
    cameras: [{ id: 'c', className: 'x', source: { kind: 'synthetic' } }],
    dashboard: { users },
  });
  assert.equal(cfg.dashboard.users[0].role, 'viewer');

  const short = run([], 'short\n');
  assert.equal(short.status, 2);
  assert.match(short.stderr, /at least 8 characters/);
  const badRole = run(['--user', 'x', '--role', 'admin'], 'long-enough-1');
  assert.notEqual(badRole.status, 0);
  assert.match(badRole.stderr, /admin/);
});
