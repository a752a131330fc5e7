// Baselines from the official Python stack, timed inside Python (process start-up is not counted),
// in Debian's python3 (ADACLIP_PYTHON overrides). Two forms:
// - pythonSamples: a script that times its own loop and prints {"wall": [...], "cpu": [...]};
// - PythonTimer: a kept Python process that times one call per request, so a benchmark can
//   alternate baseline and ours call by call: on a shared machine whose load changes by the second,
//   both then see the same load, and their ratio means something.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';

export const PYTHON = process.env.ADACLIP_PYTHON ?? '/usr/bin/python3';

/** One timed call: wall-clock and CPU time (all threads of the process), ms. */
export interface Sample {
  wall: number;
  cpu: number;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export const round = (x: number): number => Math.round(x * 100) / 100;

/** Runs `code` with argv [iterations, ...args]; it prints one JSON line {"wall": [...], "cpu": [...]}. */
export function pythonSamples(
  code: string,
  iterations: number,
  args: string[] = [],
): { wall: number[]; cpuMedian: number } {
  const res = spawnSync(PYTHON, ['-c', code, String(iterations), ...args], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (res.error) throw new Error(`${PYTHON} failed to start: ${res.error.message}`);
  if (res.status !== 0) throw new Error(`${PYTHON} exited with ${res.status}: ${res.stderr}`);
  const out = JSON.parse(res.stdout.trim().split('\n').pop() ?? '{}') as { wall?: number[]; cpu?: number[] };
  if (!out.wall?.length || !out.cpu?.length) throw new Error(`no samples from ${PYTHON}: ${res.stdout}`);
  return { wall: out.wall, cpuMedian: median(out.cpu) };
}

/**
 * The request loop a PythonTimer script ends with: `setup` defines `call()`; every line on stdin
 * runs it once and answers {"wall": ms, "cpu": ms}.
 */
const LOOP = `
import sys as _sys, time as _time, json as _json
print('ready', flush=True)
for _line in _sys.stdin:
    _c0 = _time.process_time(); _t0 = _time.perf_counter(); call()
    _w = (_time.perf_counter() - _t0) * 1000; _c = (_time.process_time() - _c0) * 1000
    print(_json.dumps({'wall': _w, 'cpu': _c}), flush=True)
`;

export class PythonTimer {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: Interface;
  private readonly waiting: ((line: string) => void)[] = [];
  private stderr = '';
  private exited: string | undefined;

  /** `setup`: Python code that defines call() (and may warm it up). */
  private constructor(setup: string, args: string[]) {
    this.child = spawn(PYTHON, ['-c', setup + LOOP, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    this.lines = createInterface({ input: this.child.stdout });
    this.lines.on('line', (line) => this.waiting.shift()?.(line));
    const fail = (why: string) => {
      this.exited = why;
      for (const w of this.waiting.splice(0)) w('');
    };
    this.child.on('error', (err) => fail(`${PYTHON} failed to start: ${err.message}`));
    this.child.on('exit', (code) => fail(`${PYTHON} exited with ${code}: ${this.stderr}`));
  }

  static async start(setup: string, args: string[] = []): Promise<PythonTimer> {
    const t = new PythonTimer(setup, args);
    const first = await t.next();
    if (first !== 'ready') {
      t.close();
      throw new Error(`baseline script did not start: ${t.exited ?? first}`);
    }
    return t;
  }

  private next(): Promise<string> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Runs call() once in Python. */
  async time(): Promise<Sample> {
    const answer = this.next();
    this.child.stdin.write('run\n');
    const line = await answer;
    if (!line) throw new Error(this.exited ?? 'baseline process gave no answer');
    return JSON.parse(line) as Sample;
  }

  close(): void {
    this.lines.close();
    this.child.stdin.end();
    this.child.kill();
  }
}
