// node-tensorrt for aarch64 (Jetson Orin's CPU), built here with Debian's cross toolchain by
// native/node-tensorrt/cross-aarch64.sh: the CPU-only addon must link as an aarch64 shared object,
// the CUDA + TensorRT variant's sources must compile for aarch64 with sm_87 device code (where nvcc
// exists), and the native CPU code, run under qemu-user, must give the TypeScript reference's HSF
// results (the portable Gram loop an Orin's CPU runs) and preprocessed tensors bit for bit. setup installs the toolchain and
// qemu-user-static; without them these tests fail, naming what is missing.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHsfReferenceDumps } from '../helpers/hsf-dump.js';
import { writePreprocessDumps } from '../helpers/preprocess-dump.js';
import { ROOT } from '../helpers/fixtures.js';

const NATIVE = join(ROOT, 'native', 'node-tensorrt');
const OUT = join(NATIVE, 'build', 'aarch64');
const EM_AARCH64 = 183;
const hasNvcc =
  spawnSync('sh', ['-c', 'command -v nvcc || test -x /usr/local/cuda/bin/nvcc'], { stdio: 'ignore' })
    .status === 0;

/** e_machine of an ELF file (little-endian), or undefined when it is not ELF. */
function elfMachine(path: string): number | undefined {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(20);
    readSync(fd, head, 0, 20, 0);
    if (head.toString('latin1', 0, 4) !== '\x7fELF') return undefined;
    return head.readUInt16LE(18);
  } finally {
    closeSync(fd);
  }
}

let build: { status: number | null; output: string } = { status: null, output: '' };

before(() => {
  const r = spawnSync('bash', [join(NATIVE, 'cross-aarch64.sh')], { encoding: 'utf8' });
  build = { status: r.status, output: `${r.stdout}${r.stderr}` };
});

test('the CPU-only addon cross-compiles and links for aarch64', () => {
  assert.equal(build.status, 0, build.output);
  assert.match(build.output, /built: addon .*ARM aarch64/, build.output);
  assert.equal(elfMachine(join(OUT, 'Release', 'node_tensorrt.node')), EM_AARCH64);
});

test(
  'the CUDA + TensorRT variant compiles for aarch64 with sm_87 device code',
  { skip: hasNvcc ? false : 'nvcc not installed: the CUDA objects are a GPU-toolchain check' },
  () => {
    assert.equal(build.status, 0, build.output);
    assert.match(build.output, /built: cuda objects .*sm_87/, build.output);
    const objects = readdirSync(join(OUT, 'cuda')).filter((f) => f.endsWith('.o'));
    // every .cu (HSF kernels, preprocessing kernel) and the session sources
    assert.ok(
      objects.some((f) => f.endsWith('.cu.o')),
      objects.join(' '),
    );
    for (const f of objects) assert.equal(elfMachine(join(OUT, 'cuda', f)), EM_AARCH64, f);
  },
);

test('under qemu-user, the aarch64 native CPU HSF and preprocessing equal the TypeScript reference bit for bit', (t) => {
  assert.equal(build.status, 0, build.output);
  const qemu = spawnSync('sh', ['-c', 'command -v qemu-aarch64-static'], { encoding: 'utf8' });
  assert.equal(
    qemu.status,
    0,
    'qemu-aarch64-static not found (apt-get install qemu-user-static; setup does)',
  );
  // the driver qemu runs is the cross-compiled one, not a host binary
  assert.equal(elfMachine(join(OUT, 'native_cpu_test')), EM_AARCH64);
  const dir = mkdtempSync(join(tmpdir(), 'aarch64-'));
  try {
    const cases = writeHsfReferenceDumps(join(dir, 'hsf'), 3);
    const frames = writePreprocessDumps(join(dir, 'preprocess'));
    const t0 = performance.now();
    const run = spawnSync(
      qemu.stdout.trim(),
      [join(OUT, 'native_cpu_test'), join(dir, 'hsf'), join(dir, 'preprocess')],
      {
        encoding: 'utf8',
      },
    );
    t.diagnostic(`qemu-aarch64 run: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const lines = run.stdout.trim().split('\n');
    for (const line of lines) {
      assert.match(line, /^PASS /, run.stdout + run.stderr);
    }
    // every case at 1 and 3 threads, on the portable loop, with no differing bit
    const hsf = lines.filter((l) =>
      /^PASS hsf .*kernel scalar, differing labels 0, scores 0, u' 0, f 0$/.test(l),
    );
    assert.equal(hsf.length, 2 * cases.length, run.stdout);
    // the preprocessing kernels' host build: every frame, every float32 bit
    const pre = lines.filter((l) => /^PASS preprocess .*differing values 0 of /.test(l));
    assert.equal(pre.length, frames.length, run.stdout);
    assert.equal(run.status, 0, run.stdout + run.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
