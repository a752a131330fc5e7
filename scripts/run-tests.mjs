#!/usr/bin/env node
// Runs the compiled tests with node's own test runner. Usage: node scripts/run-tests.mjs [unit|integration|e2e ...]
// Node 20's --test takes no globs, so the files are listed here.
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = 'dist/test';
if (!existsSync(root)) {
  console.error('dist/test is missing: run `npm run build` first');
  process.exit(2);
}
const groups = process.argv.slice(2);
const dirs = groups.length ? groups.map((g) => join(root, g)) : [root];
const files = [];
const walk = (d) => {
  for (const name of readdirSync(d).sort()) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) files.push(p);
  }
};
for (const d of dirs) if (existsSync(d)) walk(d);
if (files.length === 0) {
  console.error(`no test files under ${dirs.join(', ')}`);
  process.exit(2);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
// A test that hangs fails after 10 minutes (tests that need longer say so themselves), and a file
// whose tests are done exits even if a failed test left a client reconnecting: one stuck file once
// held CI until its 90-minute limit with no report of which.
const res = spawnSync(
  process.execPath,
  [
    '--enable-source-maps',
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-timeout=600000',
    '--test-force-exit',
    '--test-reporter=spec',
    ...files,
  ],
  { stdio: 'inherit' },
);
process.exit(res.status ?? 1);
