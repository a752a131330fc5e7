// The alert dashboard and the HTTP API (fastify): server-rendered pages for operators (pages/),
// JSON for tools (routes/), /metrics for Prometheus, /healthz and /readyz for Kubernetes probes.
// Access (auth/): sign-in, roles, CSRF, Host and Origin checks for every route; a bounded number
// of live streams; security headers on every answer. Every request is validated with zod and a
// bad one gets a 400 that names the problem.
import Fastify, { type FastifyInstance } from 'fastify';
import { createReadStream } from 'node:fs';
import { z } from 'zod';
import type { Config } from '../config/schema.js';
import type { Logger } from '../util/log.js';
import { Access } from './auth/access.js';
import { authRoutes } from './auth/auth-routes.js';
import { limitLiveStreams } from './live-limit.js';
import { pageRoutes } from './pages/index.js';
import { apiRoutes } from './routes/index.js';
import { originOf } from './routes/http.js';
import { securityHeaders } from './security-headers.js';
import { staticRoutes } from './static-files.js';
import type { DashboardSource } from './types.js';

const cameraParam = z.object({ id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'a camera id') });
const triggerBody = z
  .object({ partId: z.string().max(128).optional() })
  .strict()
  .optional()
  .nullable();
const snapshotParam = z.object({
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,200}\.jpg$/, 'a snapshot file name ending in .jpg'),
});

export type DashboardOptions = Pick<
  Config['dashboard'],
  'host' | 'port' | 'auth' | 'users' | 'session' | 'allowedHosts' | 'maxLiveConnections'
>;

export class DashboardServer {
  private app?: FastifyInstance;
  address = '';

  constructor(
    private readonly opts: DashboardOptions,
    private readonly source: DashboardSource,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const access = new Access(this.opts);
    // fastify logs nothing itself; sign-ins and triggers are logged through the service's logger
    const app = Fastify({
      logger: false,
      bodyLimit: 16 * 1024,
      // live streams stay open: stopping the service must not wait for the browsers to leave
      forceCloseConnections: true,
    });
    this.app = app;
    const src = this.source;

    app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
      const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
      if (status === 500) this.logger.error({ err }, 'dashboard request failed');
      void reply.code(status).send({ error: err.message });
    });
    // the sign-in and sign-out forms post urlencoded bodies
    app.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 4096 },
      (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
    access.install(app);
    securityHeaders(app);
    limitLiveStreams(app, this.opts.maxLiveConnections);

    await app.register(staticRoutes);
    await app.register(authRoutes, { access, source: src, logger: this.logger });
    await app.register(pageRoutes, { access, source: src });
    await app.register(apiRoutes, src.api);
    app.post('/api/cameras/:id/trigger', { config: { role: 'operator' } }, async (req, reply) => {
      const p = cameraParam.safeParse(req.params);
      if (!p.success) return reply.code(400).send({ error: zodMessage(p.error) });
      const b = triggerBody.safeParse(req.body);
      if (!b.success) return reply.code(400).send({ error: zodMessage(b.error) });
      const cam = src.status().cameras.find((c) => c.id === p.data.id);
      if (!cam) return reply.code(404).send({ error: `no camera ${JSON.stringify(p.data.id)}` });
      const t = src.trigger(p.data.id, b.data?.partId);
      if ('refused' in t) return reply.code(409).send({ error: t.refused });
      this.logger.debug(
        { camera: p.data.id, origin: originOf(req), triggerId: t.triggerId },
        'dashboard trigger',
      );
      return { ok: true, triggerId: t.triggerId };
    });
    app.get('/api/snapshots/:name', { config: { role: 'viewer' } }, async (req, reply) => {
      const p = snapshotParam.safeParse(req.params);
      if (!p.success) return reply.code(400).send({ error: zodMessage(p.error) });
      const file = src.snapshotFile(p.data.name);
      if (!file) return reply.code(404).send({ error: `no snapshot ${p.data.name}` });
      return reply
        .type('image/jpeg')
        .header('cache-control', 'private, max-age=86400')
        .send(createReadStream(file));
    });
    app.get('/metrics', { config: { public: true } }, async (_req, reply) =>
      reply.type(src.metricsContentType).send(await src.metricsText()),
    );

    this.address = await app.listen({ host: this.opts.host, port: this.opts.port });
    if (access.mode === 'none' && !isLoopback(this.opts.host))
      this.logger.warn(
        { host: this.opts.host },
        'dashboard.auth is none on a network address: anyone who reaches this port may acknowledge, review and suspend (demo only)',
      );
    this.logger.info(
      {
        url: this.address,
        auth:
          access.mode === 'none'
            ? 'none (demo: anyone may act)'
            : access.readOnly
              ? 'read-only (no users)'
              : 'users',
      },
      'dashboard listening',
    );
  }

  async stop(): Promise<void> {
    await this.app?.close();
    this.app = undefined;
  }
}

function zodMessage(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || 'request'}: ${i.message}`).join('; ');
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
