// The pages' stylesheet and scripts (src/dashboard/static/: plain files, no build step, nothing
// from the internet), read once at start and served from memory with an ETag.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { repoRoot } from '../util/paths.js';

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export const STATIC_DIR = join(repoRoot(), 'src', 'dashboard', 'static');

export async function staticRoutes(app: FastifyInstance): Promise<void> {
  const files = new Map<string, { body: Buffer; type: string; etag: string }>();
  for (const name of readdirSync(STATIC_DIR)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(join(STATIC_DIR, name));
    files.set(name, {
      body,
      type,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`,
    });
  }
  app.get('/static/:name', { config: { public: true } }, async (req, reply) => {
    const f = files.get((req.params as { name: string }).name);
    if (!f) return reply.code(404).send({ error: 'no such file' });
    void reply.header('etag', f.etag).header('cache-control', 'no-cache');
    if (req.headers['if-none-match'] === f.etag) return reply.code(304).send();
    return reply.type(f.type).send(f.body);
  });
}
