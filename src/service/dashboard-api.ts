// What the dashboard server gets from the service (DashboardSource): the live status, the trigger
// door, snapshot files, /metrics, and the JSON API's dependencies (src/dashboard/routes/deps.ts),
// wired to the history, the operator's actions, the live frames, the readiness and the bus.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { ApiDeps, StreamMessage } from '../dashboard/routes/deps.js';
import type { DashboardSource } from '../dashboard/types.js';
import { SNAPSHOT_FILE } from '../events/snapshots.js';
import type { Metrics } from '../metrics/prometheus.js';
import { exportReviews } from '../operator/review-export.js';
import type { CameraSettings } from './camera-settings.js';
import type { ServiceBus } from './event-bus.js';
import type { LiveFrames } from './live-frames.js';
import type { LiveStatus } from './live-status.js';
import type { OperatorLoop } from './operator-loop.js';
import type { Readiness } from './readiness.js';

export function dashboardSource(p: {
  status: LiveStatus;
  bus: ServiceBus;
  metrics: Metrics;
  operator: OperatorLoop;
  settings: () => CameraSettings;
  live: LiveFrames;
  readiness: () => Readiness;
  trigger: DashboardSource['trigger'];
  cameraIds: string[];
  snapshotDir: string;
  reviewsDir: string;
}): DashboardSource {
  const dir = resolve(p.snapshotDir);
  const { operator } = p;
  const api: ApiDeps = {
    status: () => p.status.snapshot(),
    cameraIds: () => p.cameraIds,
    history: operator.history,
    acknowledge: (id, origin, comment) => operator.acknowledgements.acknowledge(id, origin, comment),
    review: (kind, id, label, origin, comment) => operator.reviews.review(kind, id, label, origin, comment),
    suspend: (id, o, origin) => operator.suspensions.suspend(id, o, origin),
    resume: (id, origin) => operator.suspensions.resume(id, origin),
    setThresholds: (cameraId, thresholds, origin) => ({
      thresholds: p.settings().apply({ cameraId, thresholds }, origin).thresholds,
    }),
    liveFrame: (id) => p.live.jpeg(id),
    ...(operator.history && {
      exportReviews: async () => {
        // beside the reviews folder: on the state volume (the root file system may be read-only)
        const parent = dirname(resolve(p.reviewsDir));
        await mkdir(parent, { recursive: true });
        const out = await mkdtemp(join(parent, '.review-export-'));
        const remove = () => rm(out, { recursive: true, force: true });
        try {
          const report = await exportReviews({
            history: operator.history!,
            reviewsDir: p.reviewsDir,
            snapshotDir: p.snapshotDir,
            out,
          });
          return { dir: out, items: report.items.length, remove };
        } catch (err) {
          await remove();
          throw err;
        }
      },
    }),
    readiness: p.readiness,
    subscribe: (listener: (m: StreamMessage) => void) => {
      const offs = [
        p.bus.on('event', (e) => listener({ event: 'anomaly', data: e })),
        p.bus.on('result', (r) => listener({ event: 'result', data: r })),
        p.bus.on('alarm', (a) =>
          listener({
            event: 'alarm',
            data: {
              cameraId: a.cameraId,
              active: a.active,
              ...(a.acknowledged && { acknowledged: a.acknowledged }),
            },
          }),
        ),
        p.bus.on('liveFrame', (f) => listener({ event: 'frame', data: f })),
      ];
      return () => offs.forEach((off) => off());
    },
  };
  return {
    status: () => p.status.snapshot(),
    trigger: p.trigger,
    snapshotFile: (name) => {
      // only names the snapshot store writes, looked up in the cameras' folders
      if (!SNAPSHOT_FILE.test(name)) return undefined;
      for (const id of p.cameraIds) {
        const file = join(dir, id, name);
        if (existsSync(file)) return file;
      }
      return undefined;
    },
    metricsText: () => p.metrics.registry.metrics(),
    metricsContentType: p.metrics.registry.contentType,
    api,
  };
}
