// Reviews: GET /api/reviews (every review, newest first, with its camera and product), and
// GET /api/reviews/export.tar: the reviewed images in the MVTec AD layout (good = false positives,
// defect = confirmed, approximate masks; src/operator/review-export.ts) as one tar download, built
// in a scratch folder that is removed once sent. One export at a time.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { tarFolder } from '../../util/tar.js';
import { historyOr503 } from './api-events.js';
import type { ApiDeps } from './deps.js';
import { viewer } from './http.js';

export async function reviewRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  let exporting = false;

  app.get('/api/reviews', viewer, async (_req, reply) => {
    const history = historyOr503(deps, reply);
    if (!history) return reply;
    const items = history.reviews().map(({ target, image: _image, ...r }) => ({
      ...r,
      className: String((target as { className?: unknown } | null)?.className ?? 'unknown'),
    }));
    return { items: items.sort((a, b) => b.at.localeCompare(a.at)) };
  });

  app.get('/api/reviews/export.tar', viewer, async (_req, reply) => {
    if (!historyOr503(deps, reply)) return reply;
    if (!deps.exportReviews) return reply.code(503).send({ error: 'review export is not available here' });
    if (exporting) return reply.code(409).send({ error: 'an export is already running: try again shortly' });
    exporting = true;
    let exp: Awaited<ReturnType<NonNullable<ApiDeps['exportReviews']>>>;
    try {
      exp = await deps.exportReviews();
    } catch (err) {
      exporting = false;
      throw err;
    }
    const finish = () => {
      exporting = false;
      void exp.remove();
    };
    reply.raw.once('close', finish);
    const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
    return reply
      .type('application/x-tar')
      .header('content-disposition', `attachment; filename="reviews-mvtec-${stamp}.tar"`)
      .header('x-review-items', String(exp.items))
      .send(Readable.from(tarFolder(exp.dir)));
  });
}
