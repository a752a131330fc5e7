// Sparkplug B for the service: the edge node built from the config, fed from the bus (every decision,
// camera state and settings change as DDATA, DBIRTH and DDEATH), and its DCMD writes applied through
// the camera settings like every other door.
import type { Config } from '../config/schema.js';
import { sparkplugOptionsFromConfig } from '../mqtt/sparkplug/from-config.js';
import { metricsFromDecision, thresholdMetrics } from '../mqtt/sparkplug/metrics.js';
import { SparkplugNode } from '../mqtt/sparkplug/node.js';
import type { Logger } from '../util/log.js';
import type { CameraSettings } from './camera-settings.js';
import type { ServiceBus } from './event-bus.js';
import type { LiveStatus } from './live-status.js';

export class SparkplugFeed {
  private readonly node: SparkplugNode;
  private unsubscribe: (() => void)[] = [];

  constructor(
    cfg: Config,
    private readonly deps: {
      /** The broker URL in use (the embedded broker's when mqtt.url is absent). */
      url?: string;
      bus: ServiceBus;
      settings: CameraSettings;
      status: LiveStatus;
      logger: Logger;
      softwareVersion: string;
    },
  ) {
    this.node = new SparkplugNode(
      sparkplugOptionsFromConfig(cfg, {
        url: deps.url,
        // the embedded broker (aedes) speaks MQTT 3.1.1 only
        protocolVersion: cfg.mqtt.url ? cfg.mqtt.protocolVersion : 4,
        logger: deps.logger,
        softwareVersion: deps.softwareVersion,
      }),
    );
    this.node.onWrite((w) => {
      const applied = deps.settings.apply(
        { cameraId: w.cameraId, className: w.className, thresholds: w.thresholds },
        { door: 'sparkplug' },
      );
      return { className: applied.className, ...thresholdMetrics(applied.thresholds) };
    });
  }

  start(): void {
    const { bus, status } = this.deps;
    const node = this.node;
    this.unsubscribe = [
      bus.on('decision', ({ cameraId, decision: d, event }) => {
        node.update(
          cameraId,
          metricsFromDecision({
            score: d.detection.score,
            scoreWithoutHsf: d.detection.scoreWithoutHsf,
            anomalous: d.detection.anomalous,
            active: d.active,
            severity: d.severity,
            regions: d.detection.regions,
            regionsTotal: d.detection.regionsTotal,
            className: d.detection.className,
            eventId: event?.id,
          }),
        );
        node.update(cameraId, status.rateMetrics(cameraId));
      }),
      bus.on('cameraState', ({ cameraId, state }) => {
        node.setCameraOnline(cameraId, state !== 'offline');
        node.update(cameraId, { cameraState: state });
      }),
      bus.on('settings', ({ cameraId, applied }) =>
        node.update(cameraId, { className: applied.className, ...thresholdMetrics(applied.thresholds) }),
      ),
    ];
    node.start();
  }

  async stop(): Promise<void> {
    for (const off of this.unsubscribe) off();
    await this.node.stop();
  }

  /** NBIRTH and DBIRTHs again (the rebirth command). */
  rebirth(): void {
    this.node.rebirth();
  }
}
