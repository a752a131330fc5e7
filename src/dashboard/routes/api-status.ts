// GET /api/status: the service, its model, MQTT and every camera (CameraView) right now.
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from './deps.js';
import { viewer } from './http.js';

export async function statusRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.get('/api/status', viewer, async () => deps.status());
}
