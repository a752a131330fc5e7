// The dashboard's pages as one fastify plugin: server-rendered HTML from the live status and the
// history (the same functions the JSON API uses), each route declaring the role it needs.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Access } from '../auth/access.js';
import { burstPage } from '../routes/api-events.js';
import { cameraId, docId } from '../routes/http.js';
import type { DashboardSource } from '../types.js';
import { cameraTile } from './camera-tile.js';
import { cameraPage, livePage } from './live-page.js';
import { eventDetailPage, resultDetailPage } from './detail-pages.js';
import { eventTable } from './event-rows.js';
import { readFilters } from './filters.js';
import { html, type Html } from './html.js';
import { page, type PageContext } from './layout.js';
import { eventsPage, resultsPage } from './list-pages.js';
import { reviewsPage, type ReviewListItem } from './other-pages.js';

const PAGE_SIZE = 50;
const BURST_GAP_S = 60;
const HISTORY_OFF = 'The history is off (history.enabled: false): nothing is stored to list.';

export interface PageDeps {
  source: DashboardSource;
  access: Access;
}

export async function pageRoutes(app: FastifyInstance, deps: PageDeps): Promise<void> {
  const { source, access } = deps;
  const history = source.api.history;
  const ctxOf = (req: FastifyRequest): PageContext => ({
    status: source.status(),
    auth: access.mode,
    readOnly: access.readOnly,
    ...(req.user && { user: req.user }),
    canAct: access.canAct(req),
    csrf: access.csrfFor(req),
    signInEnabled: access.signInEnabled,
  });
  const send = (reply: FastifyReply, body: Html, code = 200) =>
    reply.code(code).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body.text);
  const notFound = (req: FastifyRequest, reply: FastifyReply, what: string) =>
    send(
      reply,
      page(ctxOf(req), {
        title: 'Not found',
        nav: 'live',
        body: html`<h1>Not found</h1>
          <p class="problem">${what}</p>`,
      }),
      404,
    );
  const viewerPage = { config: { role: 'viewer' as const, page: true } };

  app.get('/', viewerPage, async (req, reply) => send(reply, livePage(ctxOf(req))));

  app.get('/cameras/:id', viewerPage, async (req, reply) => {
    const p = z.strictObject({ id: cameraId }).safeParse(req.params);
    const ctx = ctxOf(req);
    const cam = p.success ? ctx.status.cameras.find((c) => c.id === p.data.id) : undefined;
    if (!cam) return notFound(req, reply, 'No such camera.');
    const recent = {
      events: history?.events({ camera: cam.id, limit: 10 }).items,
      results: cam.triggerable ? history?.results({ camera: cam.id, limit: 10 }).items : undefined,
    };
    return send(reply, cameraPage(ctx, cam, recent));
  });

  // one camera's tile as it is now: the live page swaps it in when a camera's state or alarm changes
  app.get('/cameras/:id/tile', { config: { role: 'viewer' } }, async (req, reply) => {
    const p = z.strictObject({ id: cameraId }).safeParse(req.params);
    const ctx = ctxOf(req);
    const cam = p.success ? ctx.status.cameras.find((c) => c.id === p.data.id) : undefined;
    if (!cam) return reply.code(404).send({ error: 'no such camera' });
    return send(
      reply,
      cameraTile(cam, { canAct: ctx.canAct, large: (req.query as { large?: string }).large === '1' }),
    );
  });

  app.get('/events', viewerPage, async (req, reply) => {
    const f = readFilters(req.query);
    const q = {
      camera: f.camera,
      severity: f.severity,
      since: f.since,
      until: f.until,
      cursor: f.cursor,
      limit: PAGE_SIZE,
    };
    const data = !history
      ? { unavailable: HISTORY_OFF }
      : f.grouped
        ? { grouped: burstPage(history, { ...q, gapS: BURST_GAP_S }) }
        : { flat: history.events(q) };
    return send(reply, eventsPage(ctxOf(req), f, data));
  });

  // the events of one burst, as a table for the events page to insert under the burst's row
  app.get('/events/burst', { config: { role: 'viewer' } }, async (req, reply) => {
    const f = readFilters(req.query);
    if (!history) return reply.code(503).send({ error: HISTORY_OFF });
    if (!f.camera || f.since === undefined || f.until === undefined || f.problems.length)
      return reply.code(400).send({ error: f.problems.join('; ') || 'camera, since and until are needed' });
    const rows = history.events({ camera: f.camera, since: f.since, until: f.until, limit: 1000 }).items;
    return send(reply, eventTable(rows));
  });

  app.get('/events/:id', viewerPage, async (req, reply) => {
    const p = z.strictObject({ id: docId }).safeParse(req.params);
    const e = p.success ? history?.event(p.data.id) : undefined;
    if (!e)
      return notFound(req, reply, history ? 'No such event (or deleted by the retention).' : HISTORY_OFF);
    return send(reply, eventDetailPage(ctxOf(req), e));
  });

  app.get('/results', viewerPage, async (req, reply) => {
    const f = readFilters(req.query);
    const data = !history
      ? { unavailable: HISTORY_OFF }
      : {
          page: history.results({
            camera: f.camera,
            verdict: f.verdict,
            partId: f.partId,
            since: f.since,
            until: f.until,
            cursor: f.cursor,
            limit: PAGE_SIZE,
          }),
        };
    return send(reply, resultsPage(ctxOf(req), f, data));
  });

  app.get('/results/:id', viewerPage, async (req, reply) => {
    const p = z.strictObject({ id: docId }).safeParse(req.params);
    const r = p.success ? history?.result(p.data.id) : undefined;
    if (!r)
      return notFound(req, reply, history ? 'No such result (or deleted by the retention).' : HISTORY_OFF);
    return send(reply, resultDetailPage(ctxOf(req), r));
  });

  app.get('/reviews', viewerPage, async (req, reply) => {
    const items: ReviewListItem[] | { unavailable: string } = history
      ? history.reviews().map((r) => ({
          kind: r.kind,
          targetId: r.targetId,
          label: r.label,
          by: r.by,
          at: r.at,
          ...(r.comment !== undefined && { comment: r.comment }),
          cameraId: r.cameraId,
          className: String((r.target as { className?: unknown } | null)?.className ?? 'unknown'),
        }))
      : { unavailable: HISTORY_OFF };
    return send(reply, reviewsPage(ctxOf(req), items));
  });
}
