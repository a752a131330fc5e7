// The live views of each camera outside the process: Prometheus gauges, the live status (dashboard,
// status command, stats) and the retained MQTT topics `<base>/<camera>/state` and `.../alarm`.
// Subscribed from construction (the bus may speak before MQTT is up); MQTT and the decisions join
// once started.
import type { Metrics, CameraState } from '../metrics/prometheus.js';
import type { MqttLink } from '../mqtt/mqtt-link.js';
import type { DecisionStage } from './decision-stage.js';
import type { ServiceBus } from './event-bus.js';
import type { LiveStatus } from './live-status.js';
import { feedMetrics } from './metrics-feed.js';

export class CameraStateFeed {
  private mqtt?: MqttLink;
  private decisions?: DecisionStage;

  constructor(
    private readonly bus: ServiceBus,
    private readonly status: LiveStatus,
    private readonly metrics: Metrics,
  ) {
    feedMetrics(bus, metrics);
    status.subscribe(bus);
    // after the live status has the change: the payload is built from it
    bus.on('cameraState', ({ cameraId }) => this.changed(cameraId));
    bus.on('settings', ({ cameraId }) => this.publish(cameraId));
    bus.on('suspension', ({ cameraId }) => this.changed(cameraId));
    bus.on('alarm', (a) => void this.mqtt?.publishAlarm(a.cameraId, { ...a }));
  }

  connect(mqtt: MqttLink, decisions: DecisionStage): void {
    this.mqtt = mqtt;
    this.decisions = decisions;
  }

  /** Every camera's first state, once the pipeline has started (trigger cameras included). */
  initial(states: Record<string, string>): void {
    for (const [id, state] of Object.entries(states)) {
      this.status.setCameraState(id, state);
      this.metrics.setCameraState(id, (this.status.viewState(id) ?? state) as CameraState);
      this.publish(id);
    }
  }

  /** The retained `<base>/<camera>/state`, from the live status and the camera's Decider. */
  publish(cameraId: string): void {
    if (!this.decisions) return;
    void this.mqtt?.publishState(
      cameraId,
      this.status.cameraStatePayload(cameraId, this.decisions.decider(cameraId)),
    );
  }

  private changed(cameraId: string): void {
    const state = this.status.viewState(cameraId);
    if (state) this.metrics.setCameraState(cameraId, state as CameraState);
    this.publish(cameraId);
  }
}
