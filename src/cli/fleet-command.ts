// `adaclip-edge fleet --broker URL`: one read-only web page over every device that publishes to a
// broker (a central fed by site bridges, or one site broker): online/offline, model, last scores,
// open alarms, outbox backlog, links to each device's dashboard. Runs until SIGINT/SIGTERM.
import { FleetServer } from '../fleet/fleet-server.js';
import { FleetState } from '../fleet/fleet-state.js';
import { FleetSubscriber } from '../fleet/fleet-subscriber.js';
import { createLogger } from '../util/log.js';

export interface FleetCommandOptions {
  broker: string;
  base: string[];
  host: string;
  port: string;
  username?: string;
  passwordFile?: string;
  ca?: string;
  cert?: string;
  key?: string;
  logLevel: string;
}

export async function fleetCommand(opts: FleetCommandOptions): Promise<number> {
  const logger = createLogger({ level: opts.logLevel as 'info', pretty: 'auto' });
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port: expected a port number 0..65535, got "${opts.port}"`);
    return 2;
  }
  let state: FleetState;
  let subscriber: FleetSubscriber;
  try {
    state = new FleetState(opts.base);
    subscriber = new FleetSubscriber(
      {
        url: opts.broker,
        username: opts.username,
        passwordFile: opts.passwordFile,
        password: process.env.ADACLIP_EDGE_FLEET_PASSWORD,
        ca: opts.ca,
        cert: opts.cert,
        key: opts.key,
      },
      state,
      logger,
    );
    subscriber.start();
  } catch (err) {
    // a bad --base, --broker URL or TLS/credential file: a usage error naming the problem
    const e = err as Error & { issues?: { path: PropertyKey[]; message: string }[] };
    const detail = e.issues
      ? e.issues
          .map((i) => `--${i.path.join('.') === 'url' ? 'broker' : i.path.join('.')}: ${i.message}`)
          .join('; ')
      : e.message;
    console.error(`fleet: ${detail}`);
    return 2;
  }
  const server = new FleetServer(
    { host: opts.host, port },
    {
      snapshot: () => state.snapshot(),
      broker: () => subscriber.status,
    },
    logger,
  );
  try {
    await server.start();
  } catch (err) {
    logger.fatal({ err: (err as Error).message }, 'fleet view cannot listen');
    await subscriber.stop();
    return 1;
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.stop();
  await subscriber.stop();
  logger.info('fleet view stopped');
  return 0;
}
