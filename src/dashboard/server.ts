// The alert dashboard and the HTTP API (fastify): a live page for operators, JSON for tools
// (src/dashboard/routes/), /metrics for Prometheus, /healthz and /readyz for Kubernetes probes.
// Every request is validated with zod and a bad one gets a 400 that names the problem.
import Fastify, { type FastifyInstance } from 'fastify';
import { createReadStream } from 'node:fs';
import { z } from 'zod';
import type { Logger } from '../util/log.js';
import { apiRoutes } from './routes/index.js';
import type { DashboardSource } from './types.js';
import { DASHBOARD_HTML } from './ui.js';

const cameraParam = z.object({ id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'a camera id') });
const triggerBody = z
  .object({ partId: z.string().max(128).optional() })
  .strict()
  .optional()
  .nullable();
const snapshotParam = z.object({
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,200}\.jpg$/, 'a snapshot file name ending in .jpg'),
});

export class DashboardServer {
  private app?: FastifyInstance;
  address = '';

  constructor(
    private readonly opts: { host: string; port: number },
    private readonly source: DashboardSource,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const app = Fastify({ logger: false, bodyLimit: 16 * 1024 });
    this.app = app;
    const src = this.source;

    app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
      const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
      if (status === 500) this.logger.error({ err }, 'dashboard request failed');
      void reply.code(status).send({ error: err.message });
    });

    app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(DASHBOARD_HTML));
    await app.register(apiRoutes, src.api);
    app.post('/api/cameras/:id/trigger', async (req, reply) => {
      const p = cameraParam.safeParse(req.params);
      if (!p.success) return reply.code(400).send({ error: zodMessage(p.error) });
      const b = triggerBody.safeParse(req.body);
      if (!b.success) return reply.code(400).send({ error: zodMessage(b.error) });
      const cam = src.status().cameras.find((c) => c.id === p.data.id);
      if (!cam) return reply.code(404).send({ error: `no camera ${JSON.stringify(p.data.id)}` });
      const t = src.trigger(p.data.id, b.data?.partId);
      if ('refused' in t) return reply.code(409).send({ error: t.refused });
      return { ok: true, triggerId: t.triggerId };
    });
    app.get('/api/snapshots/:name', async (req, reply) => {
      const p = snapshotParam.safeParse(req.params);
      if (!p.success) return reply.code(400).send({ error: zodMessage(p.error) });
      const file = src.snapshotFile(p.data.name);
      if (!file) return reply.code(404).send({ error: `no snapshot ${p.data.name}` });
      return reply.type('image/jpeg').send(createReadStream(file));
    });
    app.get('/metrics', async (_req, reply) =>
      reply.type(src.metricsContentType).send(await src.metricsText()),
    );

    this.address = await app.listen({ host: this.opts.host, port: this.opts.port });
    this.logger.info({ url: this.address }, 'dashboard listening');
  }

  async stop(): Promise<void> {
    await this.app?.close();
    this.app = undefined;
  }
}

function zodMessage(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || 'request'}: ${i.message}`).join('; ');
}
