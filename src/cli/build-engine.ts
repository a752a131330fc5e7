// `adaclip-edge build-engine`: the TensorRT engine for this device, built once and cached beside the
// bundle (src/engines/engine-cache.ts does the work; the service's tensorrt backend uses the same).
import type { Precision } from '../engines/trtexec.js';

/** `adaclip-edge build-engine --bundle DIR [--precision fp16] [--max-batch N] [--force]`; exit code. */
export async function buildEngineCommand(opts: {
  bundle: string;
  precision: Precision;
  maxBatch: string;
  force: boolean;
  workspaceMib?: string;
}): Promise<number> {
  const { loadBundle } = await import('../model/bundle.js');
  const { createLogger } = await import('../util/log.js');
  const { buildEngine, ensureEngine } = await import('../engines/engine-cache.js');
  const logger = createLogger({});
  try {
    const maxBatch = Number(opts.maxBatch);
    const bundle = await loadBundle(opts.bundle);
    const build = opts.force ? buildEngine : ensureEngine;
    const res = await build({
      bundle,
      precision: opts.precision,
      maxBatch,
      workspaceMiB: opts.workspaceMib ? Number(opts.workspaceMib) : undefined,
      logger,
      onProgress: ({ elapsedS, line }) => {
        if (!line && process.stderr.isTTY) process.stderr.write(`\rbuilding TensorRT engine: ${elapsedS} s`);
      },
    });
    console.log(JSON.stringify({ engine: res.enginePath, key: res.key, reused: res.reused, ...res.parts }));
    return 0;
  } catch (err) {
    logger.error({ err: (err as Error).message }, 'build-engine failed');
    console.error(`build-engine: ${(err as Error).message}`);
    return 1;
  }
}
