// The Prometheus metrics (metrics/prometheus.ts) fed from the service's bus, and from the parts
// that count on their own: the pipeline (frames captured, frames dropped by reason) and the MQTT
// link (documents lost).
import type { Metrics } from '../metrics/prometheus.js';
import type { MqttLink } from '../mqtt/mqtt-link.js';
import type { Pipeline } from '../pipeline/pipeline.js';
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
  bus.on('result', (r) => {
    metrics.results.inc({ camera: r.cameraId, verdict: r.verdict });
    if (r.reason) metrics.resultErrors.inc({ camera: r.cameraId, reason: r.reason });
  });
  bus.on('alarm', (a) => metrics.alarmActive.set({ camera: a.cameraId }, a.active ? 1 : 0));
  bus.on('suspension', ({ cameraId, suspension }) =>
    metrics.suspended.set({ camera: cameraId }, suspension ? 1 : 0),
  );
}

/** Frames read from each camera and frames dropped, by camera and reason. */
export function feedPipelineMetrics(
  pipeline: Pick<Pipeline<never, never, never, never>, 'drops' | 'onCaptured'>,
  metrics: Metrics,
): void {
  pipeline.onCaptured((camera) => metrics.framesCaptured.inc({ camera }));
  pipeline.drops.onDrop((e) => metrics.framesDropped.inc({ camera: e.cameraId, reason: e.reason }));
}

/** Documents lost by the outbox (overflow) or refused by the broker. */
export function feedMqttMetrics(mqtt: MqttLink, metrics: Metrics): void {
  const reasons = { dropped: 'drop-oldest', rejected: 'reject-new', 'broker-rejected': 'broker-rejected' };
  mqtt.on('loss', (l) => metrics.eventsLost.inc({ reason: reasons[l.kind] }, l.count));
  mqtt.on('state', (s) => metrics.mqttConnected.set(s === 'connected' ? 1 : 0));
}
