// Inspection results from the history: the list (by camera, verdict, part id, time; newest first;
// cursor pages) as JSON or CSV, one result, and its review.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { resultCsv } from '../../history/csv.js';
import { historyOr503, reviewBody } from './api-events.js';
import type { ApiDeps } from './deps.js';
import { cameraId, docId, operator, originOf, parseOr400, sendRefusal, timeBound, viewer } from './http.js';

const resultsQuery = z
  .strictObject({
    camera: cameraId.optional(),
    verdict: z.enum(['ok', 'ng', 'error']).optional(),
    partId: z.string().min(1).max(256).optional(),
    since: timeBound.optional(),
    until: timeBound.optional(),
    limit: z.coerce.number().int().min(1).optional(),
    cursor: docId.optional(),
    format: z.enum(['json', 'csv']).default('json'),
  })
  .superRefine((q, ctx) => {
    const max = q.format === 'csv' ? 1_000_000 : 1000;
    if (q.limit !== undefined && q.limit > max)
      ctx.addIssue({ code: 'custom', path: ['limit'], message: `at most ${max} with format=${q.format}` });
  });

export async function resultRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.get('/api/results', viewer, async (req, reply) => {
    const q = parseOr400(resultsQuery, req.query, reply);
    const history = q && historyOr503(deps, reply);
    if (!q || !history) return reply;
    if (q.format === 'json') return history.results({ ...q, limit: q.limit ?? 50 });
    const rows = history.iterateResults({ ...q, limit: q.limit ?? 10_000 });
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="results.csv"')
      .send(Readable.from(resultCsv(rows)));
  });

  app.get('/api/results/:id', viewer, async (req, reply) => {
    const p = parseOr400(z.strictObject({ id: docId }), req.params, reply);
    const history = p && historyOr503(deps, reply);
    if (!p || !history) return reply;
    return history.result(p.id) ?? reply.code(404).send({ error: `no result ${p.id}` });
  });

  app.post('/api/results/:id/review', operator, async (req, reply) => {
    const p = parseOr400(z.strictObject({ id: docId }), req.params, reply);
    const b = p && parseOr400(reviewBody, req.body, reply);
    if (!p || !b) return reply;
    try {
      return { ok: true, ...(await deps.review('result', p.id, b.label, originOf(req), b.comment)) };
    } catch (err) {
      return sendRefusal(reply, err);
    }
  });
}
