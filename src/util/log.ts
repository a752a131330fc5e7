// Structured logs with pino: JSON lines for machines (journald, Loki), pretty on a terminal.
import pino, { type Logger } from 'pino';

export type { Logger };

export interface LogOptions {
  level?: string;
  pretty?: 'auto' | 'always' | 'never';
  /** Write to stderr so that stdout stays clean for machine output (infer --json). */
  stderr?: boolean;
}

export function createLogger(opts: LogOptions = {}): Logger {
  const fd = opts.stderr === false ? 1 : 2;
  const pretty = opts.pretty === 'always' || (opts.pretty !== 'never' && process.stderr.isTTY === true);
  const redact = {
    paths: ['*.password', '*.*.password', 'password', '*.key', 'headers.authorization'],
    censor: '***',
  };
  if (pretty) {
    return pino({
      level: opts.level ?? 'info',
      redact,
      transport: {
        target: 'pino-pretty',
        options: { destination: fd, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
      },
    });
  }
  return pino({ level: opts.level ?? 'info', redact }, pino.destination({ fd, sync: false }));
}
