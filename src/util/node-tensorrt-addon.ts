// Where the CPU-side users find the node-tensorrt addon (native/node-tensorrt): HSF's CUDA kernels
// and native CPU path (src/hsf/gpu.ts, native-cpu.ts) and the native CPU preprocessing
// (src/preprocess/native-kernel.ts) live in the one .node file that setup builds.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ADDON = join('native', 'node-tensorrt', 'build', 'Release', 'node_tensorrt.node');

/** The built addon's path, or undefined when it was not built (searching up from this file). */
export function nodeTensorRtAddonPath(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = join(dir, ADDON);
    if (existsSync(p)) return p;
    dir = dirname(dir);
  }
  return undefined;
}

/** Loads the addon; throws an Error that says why not (not built, or does not load). */
export function requireNodeTensorRtAddon<T>(): T {
  const path = nodeTensorRtAddonPath();
  if (!path) throw new Error('node-tensorrt addon not built (native/node-tensorrt/build.sh)');
  try {
    return createRequire(import.meta.url)(path) as T;
  } catch (err) {
    throw new Error(`loading ${path} failed: ${(err as Error).message}`);
  }
}
