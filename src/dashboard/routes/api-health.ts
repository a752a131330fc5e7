// Kubernetes probes, without login: GET /healthz (the process answers) and GET /readyz (the model
// is loaded, MQTT can take what is produced, every camera has a state; else 503 with the reasons).
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from './deps.js';

export async function healthRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.get('/healthz', { config: { public: true } }, async () => ({ ok: true }));
  app.get('/readyz', { config: { public: true } }, async (_req, reply) => {
    const r = deps.readiness();
    return reply.code(r.ready ? 200 : 503).send(r);
  });
}
