// The HSF CUDA kernel code (native/node-tensorrt/src/hsf/hsf_kernels.cuh) compiled as plain C++ and
// run with std::threads as the block's threads (native/node-tensorrt/test/hsf_host_emulation.cpp):
// labels, scores, f and u' must equal the TypeScript reference's, and the top-K gather kernel must
// pick the official top-K order of the fixture. Checks the kernel's logic,
// synchronisation and float64 operation order on machines without a GPU; needs g++ (C++20).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHsfReferenceDumps } from '../helpers/hsf-dump.js';
import { ROOT } from '../helpers/fixtures.js';
import { requireCommand } from '../helpers/require-tools.js';

test('CUDA kernel code on CPU threads reproduces the CPU reference exactly', () => {
  requireCommand('g++', 'g++');
  const dir = mkdtempSync(join(tmpdir(), 'hsf-emu-'));
  try {
    const cases = writeHsfReferenceDumps(join(dir, 'dumps'), 3);
    const exe = join(dir, 'hsf_host_emulation');
    const src = join(ROOT, 'native', 'node-tensorrt', 'test', 'hsf_host_emulation.cpp');
    execFileSync('g++', ['-std=c++20', '-O2', '-ffp-contract=off', '-pthread', src, '-o', exe], {
      stdio: 'pipe',
    });
    for (const threads of ['5', '32']) {
      const run = spawnSync(exe, [join(dir, 'dumps'), threads], { encoding: 'utf8' });
      const lines = run.stdout.trim().split('\n');
      for (const line of lines) {
        assert.match(line, /^PASS /, line);
      }
      const hsfLines = lines.filter((l) => /label mismatches 0,/.test(l));
      assert.equal(hsfLines.length, cases.length, run.stdout + run.stderr);
      // the fixture cases also check the top-K gather kernel against the official top-K order
      const gatherLines = lines.filter((l) =>
        /top-K gather: .*index mismatches 0, max\|d token\| 0$/.test(l),
      );
      assert.equal(gatherLines.length, cases.length - 1, run.stdout);
      assert.equal(run.status, 0, run.stdout + run.stderr);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
