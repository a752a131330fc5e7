// A publishing service in a child process for the fault tests: it accepts numbered events through
// the real MqttLink (durable outbox + publisher) so the test can SIGKILL it mid-run and start it
// again on the same outbox file. Protocol on stdout, one line each:
//   "A <n>"    event n is durable (publishEvent resolved)
//   "DONE"     every event of the range is durable
//   "DRAINED"  the outbox is empty: the broker acknowledged everything
// argv[2] is JSON: { url, dbPath, baseTopic, clientId, from, to, cameras, ratePerS }
import pino from 'pino';
import { mqttSchema } from '../../src/config/schema.js';
import { MqttLink } from '../../src/mqtt/mqtt-link.js';

interface ChildArgs {
  url: string;
  dbPath: string;
  baseTopic: string;
  clientId: string;
  from: number;
  to: number;
  cameras: number;
  ratePerS: number;
}

const args = JSON.parse(process.argv[2]) as ChildArgs;
const logger = pino({ level: process.env.CHILD_LOG ?? 'silent' }, pino.destination(2));
const svc = new MqttLink(
  mqttSchema.parse({
    url: args.url,
    clientId: args.clientId,
    baseTopic: args.baseTopic,
    keepaliveS: 5,
    outbox: { path: args.dbPath },
    commands: { enabled: false },
    statsIntervalS: 3600,
  }),
  logger,
);

const say = (line: string) => process.stdout.write(line + '\n');

function eventFor(n: number, cameras: number) {
  const cameraId = `cam-${n % cameras}`;
  return {
    id: `ev-${String(n).padStart(8, '0')}`,
    version: 1,
    cameraId,
    seq: n,
    ts: new Date().toISOString(),
  };
}

async function main(): Promise<void> {
  await svc.start();
  process.on('SIGTERM', () => void svc.stop().then(() => process.exit(0)));
  const started = Date.now();
  const batch = 20;
  for (let n = args.from; n < args.to; n += batch) {
    const ns = Array.from({ length: Math.min(batch, args.to - n) }, (_, i) => n + i);
    await Promise.all(ns.map((k) => svc.publishEvent(eventFor(k, args.cameras)).then(() => say(`A ${k}`))));
    // pace the run so that faults land in the middle of it
    const due = started + ((n + batch - args.from) / args.ratePerS) * 1000;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  say('DONE');
  for (;;) {
    const s = svc.getStats().outbox;
    if (s.pending === 0 && s.inflight === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  say('DRAINED');
}

main().catch((err: Error) => {
  process.stderr.write(`outbox-child failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
