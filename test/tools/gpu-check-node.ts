// The Node parts of scripts/gpu-check.sh (on a machine with a GPU), printing PASS/FAIL lines:
//   node dist/test/tools/gpu-check-node.js preprocess   the kernels through the addon (NTRT_ADDON):
//        preprocess.device = preprocess.host, float32 and float16, frames of several sizes and views
//   node dist/test/tools/gpu-check-node.js onnxruntime  whether onnxruntime's CUDA and TensorRT
//        providers load and run a one-node model (the npm package ships without them: a fact)
import { loadNodeTensorrt } from '../../src/engines/tensorrt.js';
import { probePlatform } from '../../src/engines/probe.js';
import { CLIP_MEAN, CLIP_STD } from '../../src/preprocess/normalize.js';
import type { DeviceFrame } from '../../src/preprocess/tensor.js';

async function preprocess(): Promise<number> {
  const load = loadNodeTensorrt();
  if (!load.ok) throw new Error(load.reason);
  const pre = load.addon.preprocess;
  if (!pre?.available()) throw new Error(`no preprocessing kernels: ${pre?.reason() ?? 'old addon'}`);
  let s = 7;
  const next = () => (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  const views: [number, number, DeviceFrame['rotate']][] = [
    [1920, 1080, 0],
    [333, 97, 90],
    [64, 480, 270],
  ];
  const frames: DeviceFrame[] = views.map(([width, height, rotate]) => ({
    data: Uint8Array.from({ length: width * height * 3 }, next),
    width,
    height,
    rotate,
  }));
  let failures = 0;
  for (const half of [false, true]) {
    const opts = { size: 518, mean: CLIP_MEAN, std: CLIP_STD, half };
    const want = pre.host(frames, opts);
    const got = await pre.device(frames, opts);
    let diff = 0;
    for (let i = 0; i < want.length; i++) if (!Object.is(want[i], got.data[i])) diff++;
    const kind = half ? 'float16' : 'float32';
    console.log(
      `${diff ? 'FAIL' : 'PASS'} addon preprocess.device = host (${kind}): ${frames.length} frames -> 518, ` +
        `differing ${diff} of ${want.length}, gpu ${got.gpuMs.toFixed(3)} ms`,
    );
    failures += diff ? 1 : 0;
  }
  return failures ? 1 : 0;
}

async function onnxruntime(): Promise<number> {
  for (const l of await probePlatform()) {
    if (l.name.startsWith('ort ')) console.log(`${l.name}: ${l.ok ? 'runs' : 'absent'} (${l.detail})`);
  }
  return 0;
}

const what = process.argv[2];
const run = what === 'preprocess' ? preprocess : what === 'onnxruntime' ? onnxruntime : undefined;
if (!run) {
  console.error('usage: gpu-check-node.js preprocess|onnxruntime');
  process.exit(2);
}
process.exitCode = await run();
