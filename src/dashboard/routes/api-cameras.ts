// Per-camera routes: the live frame (latest picture with the heatmap overlay and region boxes),
// suspend and resume, and thresholds (through CameraSettings.apply like every other door).
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { MAX_SUSPENSION_S } from '../../operator/suspensions.js';
import type { ApiDeps } from './deps.js';
import { cameraId, comment, operator, originOf, parseOr400, sendRefusal, viewer } from './http.js';

const params = z.strictObject({ id: cameraId });
const suspendBody = z
  .strictObject({
    durationS: z.number().positive().max(MAX_SUSPENSION_S).optional(),
    comment: comment.optional(),
  })
  .nullish()
  .transform((b) => b ?? {});
const score = z.number().min(0).max(1);
const thresholdsBody = z
  .strictObject({
    image: score.optional(),
    pixel: score.optional(),
    clear: score.optional(),
    minRegionAreaPct: z.number().min(0).max(100).optional(),
  })
  .refine((t) => Object.keys(t).length > 0, 'at least one of image, pixel, clear, minRegionAreaPct');

export async function cameraRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  /** The camera id of the request, or undefined once 400/404 was answered. */
  const camera = (reqParams: unknown, reply: FastifyReply): string | undefined => {
    const p = parseOr400(params, reqParams, reply);
    if (!p) return undefined;
    if (!deps.cameraIds().includes(p.id)) {
      void reply.code(404).send({ error: `no camera ${JSON.stringify(p.id)}` });
      return undefined;
    }
    return p.id;
  };

  app.get('/api/cameras/:id/live.jpg', viewer, async (req, reply) => {
    const id = camera(req.params, reply);
    if (!id) return reply;
    const frame = await deps.liveFrame(id);
    if (!frame) return reply.code(404).send({ error: `camera ${id} has no frame yet` });
    const etag = `"${id}-${frame.seq}"`;
    void reply
      .header('etag', etag)
      .header('last-modified', new Date(frame.at).toUTCString())
      .header('cache-control', 'no-cache');
    if (req.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.type('image/jpeg').send(frame.jpeg);
  });

  app.post('/api/cameras/:id/suspend', operator, async (req, reply) => {
    const id = camera(req.params, reply);
    if (!id) return reply;
    const b = parseOr400(suspendBody, req.body, reply);
    if (b === undefined) return reply;
    try {
      return {
        ok: true,
        suspension: deps.suspend(id, { durationS: b?.durationS, comment: b?.comment }, originOf(req)),
      };
    } catch (err) {
      return sendRefusal(reply, err);
    }
  });

  app.post('/api/cameras/:id/resume', operator, async (req, reply) => {
    const id = camera(req.params, reply);
    if (!id) return reply;
    if (req.body !== undefined && req.body !== null && Object.keys(req.body as object).length > 0)
      return reply.code(400).send({ error: 'request: resume takes no body' });
    try {
      return { ok: true, resumed: deps.resume(id, originOf(req)) };
    } catch (err) {
      return sendRefusal(reply, err);
    }
  });

  app.post('/api/cameras/:id/thresholds', operator, async (req, reply) => {
    const id = camera(req.params, reply);
    if (!id) return reply;
    const b = parseOr400(thresholdsBody, req.body, reply);
    if (!b) return reply;
    try {
      return { ok: true, ...(deps.setThresholds(id, b, originOf(req)) as object) };
    } catch (err) {
      return sendRefusal(reply, err);
    }
  });
}
