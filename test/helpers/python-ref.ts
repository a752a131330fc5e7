// Runs reference Python (Debian's /usr/bin/python3 with numpy/scipy/PIL/torchvision) from tests, so
// expected values are computed by the reference library during the test, never hard-coded.
import { spawnSync } from 'node:child_process';

export const PYTHON = process.env.ADACLIP_PYTHON ?? '/usr/bin/python3';

/** Runs `code` with `args` as sys.argv[1:]; returns stdout, throws with stderr on failure. */
export function runPython(code: string, args: string[] = [], timeoutMs = 120_000): string {
  const res = spawnSync(PYTHON, ['-c', code, ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 << 20,
  });
  if (res.error) throw new Error(`${PYTHON} failed to start: ${res.error.message}`);
  if (res.status !== 0) throw new Error(`${PYTHON} exited with ${res.status}:\n${res.stderr}`);
  return res.stdout;
}
