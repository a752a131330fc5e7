// The fleet view's HTTP side (fastify): the page, its JSON and a health check. Read-only: no route
// changes anything. The dashboard has no login yet, so neither has this; it binds to 127.0.0.1
// unless told otherwise, and says so in the log when it is not. Its routes declare the viewer role
// for the dashboard's auth plugin when that comes.
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from '../util/log.js';
import { FLEET_HTML } from './fleet-page.js';
import type { FleetSnapshot } from './fleet-state.js';

export interface FleetView {
  snapshot(): FleetSnapshot;
  broker(): { url: string; connected: boolean };
}

const viewer = { config: { role: 'viewer' as const } };
/** The page runs its own inline script and fetches /api/fleet; nothing else may load. */
const CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'";

export class FleetServer {
  private app?: FastifyInstance;
  address = '';

  constructor(
    private readonly opts: { host: string; port: number },
    private readonly view: FleetView,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const app = Fastify({ logger: false });
    this.app = app;
    app.addHook('onSend', async (_req, reply) => {
      void reply.header('content-security-policy', CSP);
      void reply.header('x-content-type-options', 'nosniff');
      void reply.header('referrer-policy', 'no-referrer');
    });
    app.get('/', viewer, async (_req, reply) => reply.type('text/html; charset=utf-8').send(FLEET_HTML));
    app.get('/api/fleet', viewer, async () => ({ broker: this.view.broker(), ...this.view.snapshot() }));
    app.get('/healthz', async () => ({ ok: true }));
    this.address = await app.listen({ host: this.opts.host, port: this.opts.port });
    if (!['127.0.0.1', '::1', 'localhost'].includes(this.opts.host))
      this.logger.warn(
        { host: this.opts.host },
        'the fleet view has no login: anyone who reaches this address can read the fleet (put it behind your proxy)',
      );
    this.logger.info({ url: this.address }, 'fleet view listening');
  }

  async stop(): Promise<void> {
    await this.app?.close();
    this.app = undefined;
  }
}
