// Structured logs with pino: JSON lines for machines (journald, Loki), pretty on a terminal. Every
// line passes redactSecrets on its way out: a URL's user:password@ or a pipeline's user-pw= never
// reaches a log, whatever field, message or error text carries it.
import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { redactSecrets } from './redact.js';

export type { Logger };

export interface LogOptions {
  level?: string;
  pretty?: 'auto' | 'always' | 'never';
  /** Write to stderr so that stdout stays clean for machine output (infer --json). */
  stderr?: boolean;
}

/** A stream that masks secrets in each line before handing it to `out`. */
export function redactingStream(out: { write(line: string): unknown }): DestinationStream {
  return { write: (line: string) => void out.write(redactSecrets(line)) };
}

export function createLogger(opts: LogOptions = {}): Logger {
  const fd = opts.stderr === false ? 1 : 2;
  const usePretty = opts.pretty === 'always' || (opts.pretty !== 'never' && process.stderr.isTTY === true);
  const redact = {
    paths: ['*.password', '*.*.password', 'password', '*.key', 'headers.authorization'],
    censor: '***',
  };
  // pretty printing runs in this process (not a transport thread) so that its input can be masked;
  // a terminal is read by a person: synchronous writes, nothing held back at exit
  if (usePretty) {
    const out = pretty({
      destination: fd,
      sync: true,
      colorize: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
    });
    return pino({ level: opts.level ?? 'info', redact }, redactingStream(out));
  }
  const out = pino.destination({ fd, sync: false });
  // pino flushes its own destination at exit, not one behind a wrapper: do it here
  process.once('exit', () => {
    try {
      out.flushSync();
    } catch {
      // not ready yet: nothing was written
    }
  });
  return pino({ level: opts.level ?? 'info', redact }, redactingStream(out));
}
