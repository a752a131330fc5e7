// The JSON API as one fastify plugin (each part is its own plugin, registered here).
import type { FastifyInstance } from 'fastify';
import { cameraRoutes } from './api-cameras.js';
import { eventRoutes } from './api-events.js';
import { healthRoutes } from './api-health.js';
import { resultRoutes } from './api-results.js';
import { reviewRoutes } from './api-reviews.js';
import { statusRoutes } from './api-status.js';
import { streamRoutes } from './api-stream.js';
import type { ApiDeps } from './deps.js';

export async function apiRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  for (const plugin of [
    statusRoutes,
    healthRoutes,
    eventRoutes,
    resultRoutes,
    reviewRoutes,
    cameraRoutes,
    streamRoutes,
  ])
    await app.register(plugin, deps);
}
