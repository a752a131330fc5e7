// NVIDIA's trtexec, the tool that builds TensorRT engines from ONNX: where it is, which TensorRT it
// belongs to, its command line for one build, and running it with its output line by line.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export type Precision = 'fp16' | 'fp32';

/** Input shapes per tensor name for TensorRT's optimisation profile. */
export interface ShapeProfile {
  min: Record<string, number[]>;
  opt: Record<string, number[]>;
  max: Record<string, number[]>;
}

export const TRTEXEC_FALLBACK = '/usr/src/tensorrt/bin/trtexec';

/** trtexec from $TRTEXEC, PATH or JetPack's /usr/src/tensorrt/bin; undefined when absent. */
export function findTrtexec(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.TRTEXEC) return existsSync(env.TRTEXEC) ? env.TRTEXEC : undefined;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, 'trtexec'))) return join(dir, 'trtexec');
  }
  return existsSync(TRTEXEC_FALLBACK) ? TRTEXEC_FALLBACK : undefined;
}

/** "10.3.0" from trtexec's banner "[TensorRT v100300]". */
export function parseTrtexecVersion(text: string): string | undefined {
  const m = /\[TensorRT v(\d+)\]/.exec(text);
  if (!m) return undefined;
  const code = Number(m[1]);
  const base = code >= 100000 ? 10000 : 1000;
  return `${Math.floor(code / base)}.${Math.floor((code % base) / 100)}.${code % 100}`;
}

function shapesArg(shapes: Record<string, number[]>): string {
  return Object.entries(shapes)
    .map(([name, dims]) => `${name}:${dims.join('x')}`)
    .join(',');
}

/** trtexec's command line for one build. */
export function trtexecArgs(o: {
  onnxPath: string;
  enginePath: string;
  timingCachePath: string;
  precision: Precision;
  profile: ShapeProfile;
  workspaceMiB?: number;
}): string[] {
  const args = [
    `--onnx=${o.onnxPath}`,
    `--saveEngine=${o.enginePath}`,
    `--minShapes=${shapesArg(o.profile.min)}`,
    `--optShapes=${shapesArg(o.profile.opt)}`,
    `--maxShapes=${shapesArg(o.profile.max)}`,
    `--timingCacheFile=${o.timingCachePath}`,
    '--skipInference',
  ];
  if (o.precision === 'fp16') args.push('--fp16');
  if (o.workspaceMiB) args.push(`--memPoolSize=workspace:${o.workspaceMiB}M`);
  return args;
}

/** Everything a command printed on stdout and stderr, whatever its exit code. */
export function runCapture(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(out));
  });
}

/**
 * Runs trtexec, handing each non-empty output line (trimmed) to `onLine`; resolves with the exit code
 * and the last 20 lines (for the error message of a failed build). Rejects when it cannot start.
 */
export function runTrtexec(
  trtexec: string,
  args: string[],
  onLine: (line: string) => void,
): Promise<{ code: number; tail: string[] }> {
  const tail: string[] = [];
  return new Promise((resolve, reject) => {
    const child = spawn(trtexec, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (d: Buffer) => {
      for (const line of d.toString().split('\n')) {
        if (!line.trim()) continue;
        tail.push(line.trim());
        if (tail.length > 20) tail.shift();
        onLine(line.trim());
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c ?? 1, tail }));
  });
}
