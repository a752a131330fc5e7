// The REAL node-tensorrt addon as built by native/node-tensorrt/build.sh: it must load on this
// machine (no GPU, no TensorRT) and say why TensorRT and CUDA are unavailable. Set NTRT_ADDON to test
// another build of it (e.g. the one compiled against the TensorRT 10.3 headers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { addonPath, loadNodeTensorrt, type NodeTensorrtAddon } from '../../src/engines/tensorrt.js';
import { probePlatform, probeTensorRt, tensorRtUnavailableReason } from '../../src/engines/probe.js';
import { chooseBackend } from '../../src/engines/select.js';

function addon(): NodeTensorrtAddon {
  const load = loadNodeTensorrt();
  assert.ok(load.ok, `the addon must load here: ${load.ok ? '' : load.reason}`);
  return load.addon;
}

const hasNvcc =
  spawnSync('sh', ['-c', 'command -v nvcc || test -x /usr/local/cuda/bin/nvcc'], { stdio: 'ignore' })
    .status === 0;
const hasGpu = existsSync('/dev/nvidia0') || existsSync('/dev/nvhost-ctrl-gpu');
const hasLibnvinfer =
  spawnSync('sh', ['-c', 'ldconfig -p | grep -q "libnvinfer.so.10 "'], { stdio: 'ignore' }).status === 0;

test('the addon is built and loads', () => {
  const path = addonPath();
  assert.ok(path && existsSync(path), `${path} missing: run native/node-tensorrt/build.sh`);
  const info = addon().buildInfo();
  assert.equal(info.napiVersion, 8);
  // build.sh builds the CUDA variant exactly when nvcc exists
  if (!process.env.NTRT_ADDON) assert.equal(info.cuda, hasNvcc);
  if (info.cuda) {
    assert.ok(info.cudaArchs.split(',').includes('87'), `sm_87 (Orin) must be built, got ${info.cudaArchs}`);
    assert.match(info.cudaToolkit ?? '', /^\d+\.\d+$/);
  }
});

test(
  'CUDA device query reports the missing GPU/driver with a code and message',
  { skip: hasGpu ? 'this machine has a GPU' : false },
  () => {
    const q = addon().cudaDevices();
    assert.equal(q.ok, false);
    if (!q.ok) {
      assert.ok(q.error.length > 10, q.error);
      assert.notEqual(q.code, 0);
      assert.ok(q.codeName.length > 0);
    }
  },
);

test('CUDA device query lists the GPU where there is one', { skip: hasGpu ? false : 'no GPU here' }, () => {
  const q = addon().cudaDevices();
  assert.ok(q.ok, q.ok ? '' : q.error);
  if (q.ok) {
    assert.ok(q.devices.length > 0);
    for (const d of q.devices) assert.match(d.computeCapability, /^\d+\.\d+$/);
  }
});

test(
  'libnvinfer absent: loadTensorRt says so, naming the library',
  { skip: hasLibnvinfer ? 'libnvinfer is installed' : false },
  () => {
    const r = addon().loadTensorRt();
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.error, /libnvinfer\.so\.10/);
  },
);

test('a library that is not TensorRT is refused with a clear reason', () => {
  const lib = [
    '/lib/x86_64-linux-gnu/libz.so.1',
    '/lib/aarch64-linux-gnu/libz.so.1',
    '/usr/lib/libz.so.1',
  ].find(existsSync);
  assert.ok(lib, 'libz.so.1 exists on Debian');
  const r = addon().loadTensorRt({ library: lib });
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.error, /not a TensorRT runtime library/);
});

test(
  'openEngine rejects with the reason TensorRT cannot run here',
  { skip: hasLibnvinfer ? 'libnvinfer is installed' : false },
  async () => {
    const a = addon();
    const headers = a.buildInfo().tensorrtHeaders;
    const expected = headers ? /libnvinfer\.so\.10/ : /built without (TensorRT headers|CUDA)/;
    await assert.rejects(a.openEngine('/nonexistent.plan'), (e: Error) => expected.test(e.message));
  },
);

test('float16 conversion at the boundary matches numpy', () => {
  const values = Float32Array.from([
    0,
    -0,
    1,
    -1,
    0.1,
    1 / 3,
    65504,
    65519.99,
    65520,
    1e6,
    -1e6,
    6.1e-5,
    5.96e-8,
    2.98e-8,
    2.99e-8,
    1e-10,
    Infinity,
    -Infinity,
    NaN,
    2049,
    2051,
    0.5 + 2 ** -11,
    0.5 + 3 * 2 ** -12,
    3.14159,
    -2.71828,
    1e-5,
    3e-6,
    ...Array.from({ length: 200 }, (_, i) => Math.sin(i * 12.9898) * 10 ** ((i % 13) - 8)),
  ]);
  const py = spawnSync(
    '/usr/bin/python3',
    [
      '-c',
      'import sys,numpy as np; a=np.frombuffer(sys.stdin.buffer.read(),dtype=np.float32); sys.stdout.buffer.write(a.astype(np.float16).view(np.uint16).tobytes())',
    ],
    { input: Buffer.from(values.buffer) },
  );
  assert.equal(py.status, 0, py.stderr?.toString());
  const want = new Uint16Array(py.stdout.buffer, py.stdout.byteOffset, values.length);
  const got = addon().float32ToFloat16(values);
  for (let i = 0; i < values.length; i++) {
    const isNan = Number.isNaN(values[i]);
    if (isNan) assert.ok((got[i] & 0x7c00) === 0x7c00 && (got[i] & 0x3ff) !== 0, 'NaN stays NaN');
    else
      assert.equal(
        got[i],
        want[i],
        `float16(${values[i]}): got 0x${got[i].toString(16)}, numpy 0x${want[i].toString(16)}`,
      );
  }
  // and back: every finite half converts exactly (compare with numpy's widening of all 65536 codes)
  const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
  const back = spawnSync(
    '/usr/bin/python3',
    [
      '-c',
      'import sys,numpy as np; a=np.frombuffer(sys.stdin.buffer.read(),dtype=np.uint16); sys.stdout.buffer.write(a.view(np.float16).astype(np.float32).tobytes())',
    ],
    { input: Buffer.from(all.buffer), maxBuffer: 1 << 20 },
  );
  assert.equal(back.status, 0);
  const wantF = new Float32Array(
    back.stdout.buffer.slice(back.stdout.byteOffset, back.stdout.byteOffset + 65536 * 4),
  );
  const gotF = addon().float16ToFloat32(all);
  for (let i = 0; i < 65536; i++) {
    if (Number.isNaN(wantF[i])) assert.ok(Number.isNaN(gotF[i]));
    else assert.equal(gotF[i], wantF[i], `half 0x${i.toString(16)}`);
  }
});

test('conversions refuse the wrong array types', () => {
  const a = addon();
  assert.throws(() => a.float32ToFloat16(new Uint16Array(2) as never), /expected a Float32Array/);
  assert.throws(() => a.float16ToFloat32(new Float32Array(2) as never), /expected a Uint16Array/);
});

test(
  'probe: TensorRT reported unavailable here, with the reason, and auto picks onnxruntime',
  { skip: hasLibnvinfer && hasGpu ? 'TensorRT and a GPU are present' : false },
  () => {
    const facts = probeTensorRt();
    assert.ok(facts.addon.ok);
    const why = tensorRtUnavailableReason(facts);
    assert.ok(why && why.length > 10, `reason: ${why}`);
    const choice = chooseBackend('auto', facts);
    assert.equal(choice.backend, 'onnxruntime');
    if (choice.backend === 'onnxruntime') assert.equal(choice.fallback?.reason, why);
  },
);

test('doctor lines: onnxruntime cpu runs a session, the rest says why not', async () => {
  const lines = await probePlatform();
  const by = (n: string) => lines.find((l) => l.name === n);
  assert.equal(by('ort cpu')?.ok, true, by('ort cpu')?.detail);
  assert.equal(by('node-tensorrt')?.ok, true, by('node-tensorrt')?.detail);
  for (const name of ['ort cuda', 'ort tensorrt', 'cuda', 'tensorrt', 'trtexec', 'backend auto']) {
    const l = by(name);
    assert.ok(l && l.detail.length > 0, `doctor line ${name}`);
  }
  if (!hasGpu) {
    assert.equal(by('ort cuda')?.ok, false);
    assert.equal(by('cuda')?.ok, false);
    assert.match(by('backend auto')?.detail ?? '', /^onnxruntime \(TensorRT unavailable: /);
  }
});

test('HSF binding: present in a CUDA build, unavailable here with the reason, inputs validated', async () => {
  const a = addon();
  const hsf = a.hsf;
  assert.equal(typeof hsf.available, 'function');
  if (!a.buildInfo().hsf) {
    assert.equal(hsf.available(), false);
    assert.match(hsf.reason(), /without the HSF CUDA kernels/);
    assert.throws(() => hsf.createRunner(), /without the HSF CUDA kernels/);
    return;
  }
  const runner = hsf.createRunner();
  assert.equal(runner.kind, 'gpu');
  const input = {
    batch: 1,
    topK: 4,
    layers: 2,
    embedDim: 3,
    tokens: new Float32Array(4 * 2 * 3).fill(0.5),
    globalFeature: new Float32Array(3).fill(0.5),
    textFeatures: new Float32Array(6).fill(0.5),
  };
  await assert.rejects(
    runner.run({ ...input, tokens: new Float32Array(5) }, { kClusters: 2, alpha: 0.2 }),
    /tokens holds 5 floats, the shape needs 24/,
  );
  await assert.rejects(
    runner.run({ ...input, batch: 0 }, { kClusters: 2, alpha: 0.2 }),
    /batch must be a positive integer/,
  );
  if (!hasGpu) {
    assert.equal(hsf.available(), false);
    assert.match(hsf.reason(), /no usable CUDA device|no CUDA device/);
    await assert.rejects(runner.run(input, { kClusters: 2, alpha: 0.2 }), /HSF: .*cuda/i);
  } else {
    assert.equal(hsf.available(), true, hsf.reason());
    const r = await runner.run(input, { kClusters: 2, alpha: 0.2 });
    assert.equal(r.scores.length, 1);
    assert.equal(r.labels.length, 4);
  }
});
