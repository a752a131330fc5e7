// Runs the real Python exporter (models/export/export.py, Debian python3-torch) into a folder, so
// model tests use bundles made the way users make them. Also writes the small inputs they need.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ROOT } from './fixtures.js';

export const PYTHON = '/usr/bin/python3';
export const EXPORTER = join(ROOT, 'models', 'export', 'export.py');
export const REFERENCE = join(ROOT, 'models', 'export', 'reference.py');

/** The tiny architecture of the official fixture, in the official model_configs format. */
export const TINY_ARCH = {
  embed_dim: 48,
  vision_cfg: { image_size: 84, layers: 4, width: 64, head_width: 64, patch_size: 14 },
  text_cfg: { context_length: 77, vocab_size: 49408, width: 48, heads: 2, layers: 4 },
};

export function runPython(script: string, args: string[], what: string): string {
  const res = spawnSync(PYTHON, [script, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (res.status !== 0) {
    throw new Error(
      `${what} failed (exit ${res.status}):\n${res.stderr.slice(-4000)}\n${res.stdout.slice(-2000)}`,
    );
  }
  return res.stdout;
}

/** export.py with the given arguments, --out dir appended. Returns dir. */
export function exportBundle(dir: string, args: string[]): string {
  runPython(EXPORTER, [...args, '--out', dir], `export.py ${args.join(' ')}`);
  return dir;
}

/** A bytes-only vocabulary (header line, no merges): for bundles whose prompts need no real merges. */
export function writeBytesOnlyVocab(path: string): string {
  writeFileSync(path, gzipSync(Buffer.from('"bpe_simple_vocab_16e6.txt#version: 0.2', 'utf8')));
  return path;
}

/** An architecture JSON file (official model_configs format). */
export function writeArch(dir: string, arch: object): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'arch.json');
  writeFileSync(path, JSON.stringify(arch));
  return path;
}

/** Deterministic standard-normal-ish floats (xorshift + Box-Muller) for test inputs. */
export function seededNormal(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
