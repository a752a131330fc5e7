// `adaclip-edge export ...`: runs the Python exporter (models/export/export.py) with Debian's
// python3, where torch lives; the exporter prints its own help and errors.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../util/paths.js';

export function pythonForExporter(): string {
  return process.env.ADACLIP_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
}

export async function exportCommand(args: string[]): Promise<number> {
  const script = join(repoRoot(), 'models', 'export', 'export.py');
  const child = spawn(pythonForExporter(), [script, ...args], { stdio: 'inherit' });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
}
