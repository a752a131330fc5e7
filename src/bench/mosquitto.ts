// Spawns a real Mosquitto broker (apt mosquitto) on a free loopback port, for the MQTT benchmarks and
// the integration tests (test/helpers/mosquitto.ts re-exports it). Its users start, stop and restart
// it themselves (fault tests kill it mid-run).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface MosquittoOptions {
  port?: number;
  /** Extra mosquitto.conf lines (TLS listeners, auth). */
  extraConfig?: string[];
  /** Replace the default plain listener entirely. */
  listenerConfig?: string[];
  /** A whole mosquitto.conf (a shipped one, adapted): written as it is, nothing added. */
  config?: string;
}

export class Mosquitto {
  private proc?: ChildProcess;
  readonly dir: string;
  port = 0;
  log = '';

  constructor(private readonly opts: MosquittoOptions = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'mosquitto-'));
    // mosquitto started as root drops to user "mosquitto": its folder must be readable by it.
    chmodSync(this.dir, 0o755);
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!this.port) this.port = this.opts.port ?? (await freePort());
    const conf = join(this.dir, 'mosquitto.conf');
    const lines = this.opts.listenerConfig ?? [`listener ${this.port} 127.0.0.1`, 'allow_anonymous true'];
    writeFileSync(
      conf,
      this.opts.config ??
        [...lines, 'persistence false', 'log_dest stdout', ...(this.opts.extraConfig ?? []), ''].join('\n'),
    );
    chmodSync(conf, 0o644);
    const proc = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    proc.stdout?.on('data', (d: Buffer) => (this.log += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (this.log += d.toString()));
    await waitForPort(
      this.port,
      5000,
      () => proc.exitCode !== null,
      () => this.log,
    );
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill(signal);
    });
    this.proc = undefined;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
}

async function waitForPort(
  port: number,
  timeoutMs: number,
  died: () => boolean,
  log: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (died()) throw new Error(`mosquitto exited at start:\n${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`mosquitto did not listen on ${port} within ${timeoutMs} ms:\n${log()}`);
}
