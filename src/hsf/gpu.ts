// The seam for HSF on the GPU: the node-tensorrt addon (native/node-tensorrt, built by its own
// cmake-js build) exposes the CUDA kernels of native/node-tensorrt/src/hsf. Until the addon exports
// an `hsf` binding, asking for the GPU runner fails with a clear error, and `auto` uses the CPU.
import { createRequire } from 'node:module';
import type { HsfRunner } from './types.js';

/** What the addon's hsf binding must provide (device pointers stay inside the addon). */
export interface HsfAddonBinding {
  /** True when a CUDA device is present and the kernels loaded. */
  available(): boolean;
  /** Why not available (no device, no driver, ...). */
  reason(): string;
  createRunner(): HsfRunner;
}

export class HsfGpuUnavailableError extends Error {
  override name = 'HsfGpuUnavailableError';
}

const ADDON_PATHS = [
  '../../native/node-tensorrt/build/Release/node_tensorrt.node',
  '../../../native/node-tensorrt/build/Release/node_tensorrt.node',
];

/** Loads the addon's hsf binding, or throws HsfGpuUnavailableError saying why. */
export function loadHsfGpuBinding(): HsfAddonBinding {
  const require = createRequire(import.meta.url);
  const errors: string[] = [];
  for (const p of ADDON_PATHS) {
    try {
      const addon = require(p) as { hsf?: HsfAddonBinding };
      if (!addon.hsf) {
        throw new HsfGpuUnavailableError(
          `the node-tensorrt addon at ${p} has no hsf binding (not built with CUDA HSF)`,
        );
      }
      if (!addon.hsf.available())
        throw new HsfGpuUnavailableError(`GPU HSF unavailable: ${addon.hsf.reason()}`);
      return addon.hsf;
    } catch (err) {
      if (err instanceof HsfGpuUnavailableError) throw err;
      errors.push(`${p}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new HsfGpuUnavailableError(
    `GPU HSF unavailable: node-tensorrt addon not found (${errors.join('; ')})`,
  );
}

export function createGpuHsfRunner(): HsfRunner {
  return loadHsfGpuBinding().createRunner();
}
