// scripts/gpu-check.sh, the one prepared device check, where no GPU is: it must say so and exit 3
// with a report; its dry run must plan every step for the GPU it finds (a stand-in nvidia-smi below
// plays an H200: TEST DOUBLE, the real one needs a GPU) and write well-formed JSON; and the scripts
// must be shellcheck-clean (setup installs shellcheck; without it this test fails).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/fixtures.js';

const SCRIPT = join(ROOT, 'scripts', 'gpu-check.sh');
const hasGpu = existsSync('/dev/nvidia0') || existsSync('/dev/nvhost-ctrl-gpu');

interface Report {
  status: string;
  dryRun: boolean;
  gpu: { nvidiaSmi: string; computeCapability: string } | null;
  cudaArch: string;
  steps: { name: string; status: string; command: string; lines: string[] }[];
}

function run(args: string[], path?: string): { status: number | null; out: string; report: Report } {
  const dir = mkdtempSync(join(tmpdir(), 'gpu-check-'));
  try {
    const report = join(dir, 'report.json');
    const r = spawnSync('bash', [SCRIPT, ...args, '--out', report], {
      encoding: 'utf8',
      env: { ...process.env, PATH: path ?? process.env.PATH },
    });
    const out = `${r.stdout}${r.stderr}`;
    assert.ok(existsSync(report), `no report written: ${out}`);
    return { status: r.status, out, report: JSON.parse(readFileSync(report, 'utf8')) as Report };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test(
  'without a GPU it says so, writes a report and exits 3',
  { skip: hasGpu ? 'this machine has a GPU' : false },
  () => {
    // a PATH without nvidia-smi, as on this machine
    const r = run([], '/usr/bin:/bin');
    assert.equal(r.status, 3, r.out);
    assert.match(r.out, /no NVIDIA GPU on this machine \(nvidia-smi not found\): nothing to check/);
    assert.equal(r.report.status, 'no-gpu');
    assert.equal(r.report.gpu, null);
    assert.equal(r.report.steps[0].name, 'gpu');
    assert.match(r.report.steps[0].status, /^fail: no NVIDIA GPU/);
  },
);

test('the dry run plans every step for the GPU nvidia-smi reports, building and running nothing', () => {
  const bin = mkdtempSync(join(tmpdir(), 'fake-smi-'));
  try {
    const smi = join(bin, 'nvidia-smi');
    writeFileSync(smi, '#!/bin/sh\necho "NVIDIA H200, 9.0, 570.00, 143771 MiB"\n');
    chmodSync(smi, 0o755);
    const r = run(['--dry-run'], `${bin}:${process.env.PATH}`);
    assert.equal(r.status, 0, r.out);
    assert.equal(r.report.status, 'dry-run');
    assert.equal(r.report.dryRun, true);
    assert.equal(r.report.cudaArch, '90');
    assert.deepEqual(r.report.gpu, {
      nvidiaSmi: 'NVIDIA H200, 9.0, 570.00, 143771 MiB',
      computeCapability: '9.0',
    });
    const names = r.report.steps.map((s) => s.name);
    for (const name of [
      'kernels-build',
      'hsf-reference',
      'hsf',
      'preprocess',
      'addon-build',
      'addon-tests',
      'addon-preprocess',
      'onnxruntime-cuda',
    ]) {
      assert.ok(names.includes(name), `${name} planned: ${names.join(', ')}`);
    }
    for (const s of r.report.steps) assert.equal(s.status, 'planned', `${s.name}: ${s.status}`);
    const build = r.report.steps.find((s) => s.name === 'kernels-build')!;
    // this GPU's architecture only
    assert.match(build.command, /ARCH=-gencode arch=compute_90,code=sm_90 OUT=/);
    assert.doesNotMatch(build.command, /sm_87/);
    assert.match(
      r.report.steps.find((s) => s.name === 'addon-build')!.command,
      /CUDA_ARCHS=87;90 NTRT_REQUIRE=1/,
    );
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
});

test('bad arguments are refused with exit 2', () => {
  const r = spawnSync('bash', [SCRIPT, '--bogus'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown argument --bogus/);
});

test('the device and cross-build scripts are shellcheck-clean', () => {
  const scripts = [
    SCRIPT,
    join(ROOT, 'scripts', 'setup.sh'),
    join(ROOT, 'native', 'node-tensorrt', 'build.sh'),
    join(ROOT, 'native', 'node-tensorrt', 'cross-aarch64.sh'),
  ];
  const r = spawnSync('shellcheck', scripts, { encoding: 'utf8' });
  assert.ok(!r.error, 'shellcheck not found (apt-get install shellcheck; scripts/setup.sh does)');
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
