// The outside check of delivery: a separate `mosquitto_sub` process (not our MQTT code) with a
// persistent session (-c, fixed client id, QoS 1), so that messages queued while it is away from a
// restarting broker still reach it. It records every event and result in arrival order.
import { spawn, type ChildProcess } from 'node:child_process';

export interface Arrival {
  id: string;
  cameraId: string;
  topic: string;
}

export class OutsideSubscriber {
  readonly arrivals: Arrival[] = [];
  private proc?: ChildProcess;
  private out = '';
  private subscribed = false;

  constructor(
    private readonly port: number,
    private readonly base: string,
    private readonly clientId: string,
  ) {}

  /** Starts mosquitto_sub and waits for its SUBACK (a missing mosquitto_sub fails the test). */
  async start(timeoutMs = 15_000): Promise<void> {
    // stdbuf: mosquitto_sub's stdout is block-buffered into a pipe; each line is wanted as it comes
    const proc = spawn(
      'stdbuf',
      ['-oL', 'mosquitto_sub', '-h', '127.0.0.1', '-p', String(this.port), '-i', this.clientId]
        .concat(['-c', '-q', '1', '-d']) // persistent session, QoS 1, debug lines (SUBACK)
        .concat(['-t', `${this.base}/+/event`, '-t', `${this.base}/+/result`])
        .concat(['-F', 'MSG %t %p']),
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.proc = proc;
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const line of lines) this.line(line);
    });
    proc.stderr!.on('data', (d: Buffer) => {
      this.out += d.toString();
      if (/received SUBACK/.test(this.out)) this.subscribed = true;
    });
    const spawned = new Promise<void>((resolve, reject) => {
      proc.once('error', (err) => reject(new Error(`mosquitto_sub cannot start: ${err.message}`)));
      proc.once('spawn', () => resolve());
    });
    await spawned;
    const deadline = Date.now() + timeoutMs;
    while (!this.subscribed) {
      if (proc.exitCode !== null) throw new Error(`mosquitto_sub exited (${proc.exitCode}):\n${this.out}`);
      if (Date.now() > deadline) throw new Error(`mosquitto_sub got no SUBACK:\n${this.out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  stop(): void {
    this.proc?.kill('SIGKILL');
  }

  /** Distinct ids received so far. */
  ids(): Set<string> {
    return new Set(this.arrivals.map((a) => a.id));
  }

  /** Waits until every id of `want` has arrived (or the time is up); returns the missing ones. */
  async waitFor(want: Iterable<string>, timeoutMs: number): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const have = this.ids();
      const missing = [...want].filter((id) => !have.has(id));
      if (missing.length === 0 || Date.now() > deadline) return missing;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Per camera: how often an id arrived (first arrivals only) after a larger one. */
  outOfOrder(from = 0): number {
    const seen = new Set<string>();
    const last = new Map<string, string>();
    let bad = 0;
    for (const a of this.arrivals.slice(from)) {
      if (seen.has(a.id)) continue;
      seen.add(a.id);
      const prev = last.get(a.cameraId);
      if (prev !== undefined && a.id < prev) bad++;
      last.set(a.cameraId, a.id);
    }
    return bad;
  }

  get log(): string {
    return this.out;
  }

  private line(line: string): void {
    if (line.startsWith('MSG ')) {
      const space = line.indexOf(' ', 4);
      const topic = line.slice(4, space);
      const doc = JSON.parse(line.slice(space + 1)) as { id: string; cameraId: string };
      this.arrivals.push({ id: doc.id, cameraId: doc.cameraId, topic });
    } else {
      if (/received SUBACK/.test(line)) this.subscribed = true;
      this.out += line + '\n';
    }
  }
}
