// Anomaly events from the history: the list (filters, newest first, cursor pages, or grouped into
// bursts per camera), one event, and the operator's actions on an event: acknowledge its alarm,
// review it (false positive or confirmed defect).
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { groupBursts, type EventGroup } from '../../history/event-groups.js';
import type { HistoryStore } from '../../history/history-store.js';
import type { EventQuery, Page } from '../../history/types.js';
import type { ApiDeps } from './deps.js';
import {
  cameraId,
  comment,
  docId,
  operator,
  originOf,
  parseOr400,
  sendRefusal,
  timeBound,
  viewer,
} from './http.js';

const eventsQuery = z.strictObject({
  camera: cameraId.optional(),
  severity: z.enum(['info', 'warning', 'critical']).optional(),
  since: timeBound.optional(),
  until: timeBound.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  cursor: docId.optional(),
  group: z.literal('burst').optional(),
  gapS: z.coerce.number().min(0).max(86400).default(60),
});

/** Events read per grouped page at most (a burst longer than this continues on the next page). */
const GROUP_SCAN = 5000;

export const ackBody = z
  .strictObject({ comment: comment.optional() })
  .nullish()
  .transform((b) => b ?? {});
export const reviewBody = z.strictObject({
  label: z.enum(['false-positive', 'confirmed']),
  comment: comment.optional(),
});

/** One page of bursts (alert grouping), newest first; `next` continues after the last one. */
export function burstPage(
  history: Pick<HistoryStore, 'events'>,
  q: EventQuery & { gapS: number },
): Page<EventGroup> {
  const rows = history.events({ ...q, limit: GROUP_SCAN }).items;
  let groups = groupBursts(rows, q.gapS * 1000);
  // a full scan may have cut the oldest group short: leave it to the next page
  if (rows.length === GROUP_SCAN && groups.length > 1) groups = groups.slice(0, -1);
  const items = groups.slice(0, q.limit);
  const last = items[items.length - 1];
  const more = groups.length > items.length || rows.length === GROUP_SCAN;
  return { items, ...(more && last && { next: last.oldestId }) };
}

export function historyOr503(
  deps: ApiDeps,
  reply: FastifyReply,
): NonNullable<ApiDeps['history']> | undefined {
  if (deps.history) return deps.history;
  void reply.code(503).send({ error: 'history: disabled (history.enabled is false)' });
  return undefined;
}

export async function eventRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.get('/api/events', viewer, async (req, reply) => {
    const q = parseOr400(eventsQuery, req.query, reply);
    const history = q && historyOr503(deps, reply);
    if (!q || !history) return reply;
    return q.group === 'burst' ? burstPage(history, q) : history.events(q);
  });

  app.get('/api/events/:id', viewer, async (req, reply) => {
    const p = parseOr400(z.strictObject({ id: docId }), req.params, reply);
    const history = p && historyOr503(deps, reply);
    if (!p || !history) return reply;
    return history.event(p.id) ?? reply.code(404).send({ error: `no event ${p.id}` });
  });

  app.post('/api/events/:id/ack', operator, async (req, reply) => {
    const p = parseOr400(z.strictObject({ id: docId }), req.params, reply);
    const b = p && parseOr400(ackBody, req.body, reply);
    if (!p || !b) return reply;
    try {
      const out = deps.acknowledge(p.id, originOf(req), b.comment);
      return { ok: true, ...out };
    } catch (err) {
      return sendRefusal(reply, err);
    }
  });

  app.post('/api/events/:id/review', operator, async (req, reply) => {
    const p = parseOr400(z.strictObject({ id: docId }), req.params, reply);
    const b = p && parseOr400(reviewBody, req.body, reply);
    if (!p || !b) return reply;
    try {
      return { ok: true, ...(await deps.review('event', p.id, b.label, originOf(req), b.comment)) };
    } catch (err) {
      return sendRefusal(reply, err);
    }
  });
}
