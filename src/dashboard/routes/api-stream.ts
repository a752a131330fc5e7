// GET /api/stream: server-sent events for the live page: `status` (the /api/status body every 2 s),
// `anomaly` (an event once durable), `result` (an inspection result once durable), `alarm`
// ({cameraId, active, acknowledged?}) and `frame` ({cameraId, seq, at}: a new live frame exists).
// How many streams may be open at once is the dashboard server's business (src/dashboard/live-limit.ts).
import type { FastifyInstance } from 'fastify';
import type { ApiDeps, StreamMessage } from './deps.js';
import { viewer } from './http.js';

export async function streamRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.get('/api/stream', { config: { ...viewer.config, liveStream: true } }, (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    const send = (m: StreamMessage) => {
      // a slow reader must not make the service buffer without bound: skip while its buffer is full
      if (res.writableNeedDrain) return;
      res.write(`event: ${m.event}\ndata: ${JSON.stringify(m.data)}\n\n`);
    };
    res.write(': connected\n\n');
    send({ event: 'status', data: deps.status() });
    const off = deps.subscribe(send);
    const timer = setInterval(
      () => send({ event: 'status', data: deps.status() }),
      deps.statusIntervalMs ?? 2000,
    );
    req.raw.on('close', () => {
      clearInterval(timer);
      off();
    });
  });
}
