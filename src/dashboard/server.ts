// The alert dashboard and the HTTP API (fastify): a live page for operators, JSON for tools,
// /metrics for Prometheus, /healthz for Kubernetes probes. Every request is validated with zod and
// a bad one gets a 400 that names the problem.
import Fastify, { type FastifyInstance } from 'fastify';
import { createReadStream } from 'node:fs';
import { z } from 'zod';
import type { Logger } from '../util/log.js';
import type { DashboardSource } from './types.js';
import { DASHBOARD_HTML } from './ui.js';

const cameraParam = z.object({ id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'a camera id') });
const triggerBody = z
  .object({ partId: z.string().max(128).optional() })
  .strict()
  .optional()
  .nullable();
const eventsQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(50) });
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
    app.get('/healthz', async () => ({ ok: true }));
    app.get('/api/status', async () => src.status());
    app.get('/api/events', async (req, reply) => {
      const q = eventsQuery.safeParse(req.query);
      if (!q.success) return reply.code(400).send({ error: zodMessage(q.error) });
      return src.recentEvents(q.data.limit);
    });
    app.get('/api/stream', (req, reply) => {
      // Server-sent events: the page gets each event as it becomes durable.
      reply.hijack();
      reply.raw.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
      reply.raw.write(': connected\n\n');
      const off = src.onEvent((event) =>
        reply.raw.write(`event: anomaly\ndata: ${JSON.stringify(event)}\n\n`),
      );
      const ping = setInterval(
        () => reply.raw.write(`event: status\ndata: ${JSON.stringify(src.status())}\n\n`),
        2000,
      );
      req.raw.on('close', () => {
        clearInterval(ping);
        off();
      });
    });
    app.post('/api/cameras/:id/trigger', async (req, reply) => {
      const p = cameraParam.safeParse(req.params);
      if (!p.success) return reply.code(400).send({ error: zodMessage(p.error) });
      const b = triggerBody.safeParse(req.body);
      if (!b.success) return reply.code(400).send({ error: zodMessage(b.error) });
      const cam = src.status().cameras.find((c) => c.id === p.data.id);
      if (!cam) return reply.code(404).send({ error: `no camera ${JSON.stringify(p.data.id)}` });
      if (!src.trigger(p.data.id, b.data?.partId)) {
        return reply.code(409).send({ error: `camera ${p.data.id} has no trigger source` });
      }
      return { ok: true };
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
