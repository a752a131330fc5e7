// A real pino logger writing into memory, so a test can read what was logged.
import { Writable } from 'node:stream';
import pino from 'pino';

export function captureLogger(level = 'debug') {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return { logger: pino({ level }, stream), text: () => text };
}
