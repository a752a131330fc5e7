// The Prometheus metrics (metrics/prometheus.ts) fed from the service's bus.
import type { Metrics } from '../metrics/prometheus.js';
import type { ServiceBus } from './event-bus.js';

export function feedMetrics(bus: ServiceBus, metrics: Metrics): void {
  bus.on('decision', ({ cameraId, decision }) =>
    metrics.score.set({ camera: cameraId }, decision.detection.score),
  );
  bus.on('event', (event) => metrics.events.inc({ camera: event.cameraId, severity: event.severity }));
  bus.on('frame', (o) => {
    metrics.framesInspected.inc({ camera: o.cameraId });
    for (const [stage, ms] of Object.entries(o.timings))
      if (typeof ms === 'number') metrics.stageSeconds.observe({ stage }, ms / 1000);
  });
  bus.on('cameraState', ({ cameraId, state }) => metrics.setCameraState(cameraId, state));
}
