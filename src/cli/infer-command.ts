// CLI glue for `adaclip-edge infer` (the contract in DESIGN.md); the work is in ./infer.ts.
import { createLogger } from '../util/log.js';

export async function inferCommand(
  inputs: string[],
  opts: { bundle: string; class: string; out: string; json: boolean; threads: string },
): Promise<number> {
  const threads = Number(opts.threads);
  if (!Number.isInteger(threads) || threads < 0) {
    console.error(`--threads: got ${JSON.stringify(opts.threads)}; expected a whole number >= 0`);
    return 2;
  }
  const logger = createLogger({ level: opts.json ? 'warn' : 'info', stderr: true });
  const { runInfer } = await import('./infer.js');
  return runInfer({
    bundle: opts.bundle,
    className: opts.class,
    outDir: opts.out,
    json: opts.json,
    inputs,
    threads,
    logger,
  });
}
