// A bounded number of live-update streams (GET /api/stream) open at once, so that forgotten tabs
// and wall screens cannot make the service hold an unbounded number of connections and timers.
// One more is refused with 503 and Retry-After; the page then falls back to slow polling.
import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A long-lived stream: counted against dashboard.maxLiveConnections. */
    liveStream?: boolean;
  }
}

export function limitLiveStreams(app: FastifyInstance, max: number): { open: () => number } {
  let open = 0;
  // after the access checks (registered later): a refused visitor holds no slot
  app.addHook('preHandler', async (req, reply) => {
    if (!req.routeOptions.config?.liveStream) return undefined;
    if (open >= max)
      return reply
        .code(503)
        .header('retry-after', '10')
        .send({ error: `too many live connections (dashboard.maxLiveConnections = ${max})` });
    open++;
    reply.raw.once('close', () => open--);
    return undefined;
  });
  return { open: () => open };
}
