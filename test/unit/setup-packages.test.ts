// scripts/setup.sh installs every Debian package that the repository's Python and the tests' tools
// need: every Python module imported anywhere (the exporter, the reference scripts, Python run from
// the tests and benchmarks) is either in /usr/bin/python3's standard library, a module of the
// repository, or provided by a package in APT_PKGS; every program the tests start is too. A fresh
// Debian 12 lacked python3-regex once, and only a fresh machine showed it: this check does not need one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { ROOT } from '../helpers/fixtures.js';

/** Debian package of each third-party Python module the repository may import. */
const PYTHON_MODULE_PACKAGE: Record<string, string> = {
  numpy: 'python3-numpy',
  scipy: 'python3-scipy',
  sklearn: 'python3-sklearn',
  PIL: 'python3-pil',
  torch: 'python3-torch',
  torchvision: 'python3-torchvision',
  onnx: 'python3-onnx',
  regex: 'python3-regex',
};

/** Debian package of each program the tests and scripts start ('base': on every Debian system). */
const PROGRAM_PACKAGE: Record<string, string> = {
  sh: 'base',
  bash: 'base',
  ldconfig: 'base',
  // Essential in Debian (tar, coreutils, util-linux): on every machine
  tar: 'base',
  mkdir: 'base',
  setpriv: 'base',
  stdbuf: 'base',
  mosquitto: 'mosquitto',
  mosquitto_sub: 'mosquitto-clients',
  mosquitto_pub: 'mosquitto-clients',
  mosquitto_passwd: 'mosquitto',
  openssl: 'openssl',
  shellcheck: 'shellcheck',
  cc: 'gcc',
  'g++': 'g++',
  kubectl: 'kubernetes-client',
  'qemu-aarch64-static': 'qemu-user-static',
};

/** Packages of the official AdaCLIP code, imported from a checkout the user provides. */
const OFFICIAL_CHECKOUT_MODULES = new Set(['method', 'dataset', 'tools']);

// Generators of committed fixtures, run by hand with ftfy and the official code (not by tests).
const NOT_RUN_BY_TESTS = new Set([
  'test/fixtures/gen_ftfy_fixture.py',
  'test/fixtures/gen_tokenizer_unicode.py',
]);

function aptPackages(): Set<string> {
  const text = readFileSync(join(ROOT, 'scripts', 'setup.sh'), 'utf8');
  const out = new Set<string>();
  for (const m of text.matchAll(/APT_PKGS\+?=\(([^)]*)\)/g))
    for (const line of m[1].split('\n'))
      for (const w of line.replace(/#.*/, '').split(/\s+/)) if (w) out.add(w);
  // the kubectl line adds the package only where no kubectl is installed: still named by setup
  if (/APT_PKGS\+=\(kubernetes-client\)/.test(text)) out.add('kubernetes-client');
  return out;
}

function files(dir: string, ext: RegExp): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      if (name === 'node_modules' || name === 'dist' || name === 'build' || name.startsWith('.')) continue;
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (ext.test(name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** Top-level module names of `import a, b.c as d` and `from a.b import c` statements in `text`. */
function pythonImports(text: string): string[] {
  const mods: string[] = [];
  // `from X import names` first (its names are not modules), then plain `import X, Y as Z`
  const rest = text.replace(
    /(^|[\s'"`;])from ([A-Za-z_][\w.]*) import [^\n'"`;]*/gm,
    (_, pre: string, m: string) => {
      mods.push(m.split('.')[0]);
      return pre;
    },
  );
  const plain = /(?:^|[\s'"`;])import ((?:[A-Za-z_][\w.]*(?: as \w+)?)(?:, *[A-Za-z_][\w.]*(?: as \w+)?)*)/gm;
  for (const m of rest.matchAll(plain))
    for (const part of m[1].split(',')) mods.push(part.trim().split(/[ .]/)[0]);
  return mods;
}

/** Python code inside TypeScript: everything but the TypeScript import lines. */
function pythonInTypeScript(text: string): string {
  return text
    .split('\n')
    .filter((l) => !/^\s*(\/\/|\*|\/\*)/.test(l)) // comments
    .filter(
      (l) => !/^\s*(import\b.*\bfrom\s+['"]|import\s+['"]|import\s+type\b|\}\s*from\s+['"]|export\s)/.test(l),
    )
    .join('\n');
}

const stdlib = new Set(
  spawnSync('/usr/bin/python3', ['-c', 'import sys; print("\\n".join(sys.stdlib_module_names))'], {
    encoding: 'utf8',
  })
    .stdout.split('\n')
    .filter(Boolean),
);

test('every Python module the repository imports is stdlib, its own, or from a package setup installs', () => {
  assert.ok(stdlib.has('json') && stdlib.has('gzip'), '/usr/bin/python3 lists its standard library');
  const apt = aptPackages();
  const sources = [
    ...files(join(ROOT, 'models'), /\.py$/),
    ...files(join(ROOT, 'deploy'), /\.py$/),
    ...files(join(ROOT, 'test'), /\.py$/),
  ].filter((f) => !NOT_RUN_BY_TESTS.has(relative(ROOT, f)));
  const embedded = [...files(join(ROOT, 'test'), /\.ts$/), ...files(join(ROOT, 'src'), /\.ts$/)].filter(
    (f) => !f.endsWith('setup-packages.test.ts'), // this file's own examples
  );
  const seen = new Map<string, string>();
  for (const f of sources)
    for (const m of pythonImports(readFileSync(f, 'utf8'))) {
      // a module of the repository: a .py beside the importer (the exporter puts its folder on sys.path)
      if (existsSync(join(dirname(f), `${m}.py`))) continue;
      // the training scripts put the exporter's folder on sys.path
      if (existsSync(join(ROOT, 'models', 'export', `${m}.py`))) continue;
      // the official AdaCLIP checkout a user hands to bench_official.py (never installed, never run by tests)
      if (OFFICIAL_CHECKOUT_MODULES.has(m) && f.endsWith('bench_official.py')) continue;
      seen.set(m, relative(ROOT, f));
    }
  for (const f of embedded)
    for (const m of pythonImports(pythonInTypeScript(readFileSync(f, 'utf8')))) {
      if (existsSync(join(ROOT, 'models', 'export', `${m}.py`))) continue;
      if (!seen.has(m)) seen.set(m, relative(ROOT, f));
    }
  const problems: string[] = [];
  let thirdParty = 0;
  for (const [m, where] of seen) {
    if (stdlib.has(m) || m === '__future__') continue;
    thirdParty++;
    const pkg = PYTHON_MODULE_PACKAGE[m];
    if (!pkg)
      problems.push(`${where} imports ${m}: add its Debian package to APT_PKGS and to this test's table`);
    else if (!apt.has(pkg)) problems.push(`${where} imports ${m}: scripts/setup.sh must install ${pkg}`);
  }
  assert.deepEqual(problems, []);
  // the scan finds what is known to be there (torch, numpy, regex, ...): it can fail
  assert.ok(seen.has('regex') && seen.has('torch') && seen.has('scipy'), [...seen.keys()].join(' '));
  assert.ok(thirdParty >= 8, `third-party modules found: ${thirdParty}`);
});

test('every program the tests start comes from a package setup installs', () => {
  const apt = aptPackages();
  const problems: string[] = [];
  const found = new Set<string>();
  for (const f of [...files(join(ROOT, 'test'), /\.ts$/), ...files(join(ROOT, 'src', 'bench'), /\.ts$/)]) {
    const text = readFileSync(f, 'utf8');
    const calls = /\b(?:spawnSync|spawn|execFileSync|execFile|requireCommand)\(\s*'([^']+)'/g;
    for (const m of text.matchAll(calls)) found.add(m[1]);
    for (const m of text.matchAll(/command -v ([\w.+-]+)/g)) found.add(m[1]);
  }
  for (const p of found) {
    if (p.startsWith('/')) continue;
    // GPU and TensorRT tools are looked for, never installed: their tests may skip
    if (['nvcc', 'trtexec', 'nvidia-smi'].includes(p)) continue;
    const pkg = PROGRAM_PACKAGE[p];
    if (!pkg)
      problems.push(`a test starts ${p}: add its Debian package to APT_PKGS and to this test's table`);
    else if (pkg !== 'base' && !apt.has(pkg))
      problems.push(`a test starts ${p}: scripts/setup.sh must install ${pkg}`);
  }
  assert.deepEqual(problems, []);
  assert.ok(found.has('mosquitto') && found.has('openssl'), [...found].join(' '));
});
