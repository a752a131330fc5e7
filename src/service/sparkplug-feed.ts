// Sparkplug B for the service: the edge node built from the config, fed from the bus (every decision,
// camera state, settings change, inspection result, alarm acknowledgement and suspension as DDATA,
// DBIRTH and DDEATH), and its DCMD writes applied through the camera settings and the suspensions
// like those of every other door: under the same command policy (mqtt.commands: enabled, allow and
// per-client rules), a class-name write being "set-class", thresholds "set-thresholds", Control/
// Suspended "suspend" or "resume". A DCMD carries no requester identity: its origin's client id is
// mqtt.sparkplug.primaryHostId (the host that sends DCMDs), so a rule for that id applies to it.
import type { CameraConfig, Config } from '../config/schema.js';
import { sparkplugCamera, sparkplugOptionsFromConfig } from '../mqtt/sparkplug/from-config.js';
import { metricsFromDecision, thresholdMetrics, type CameraMetrics } from '../mqtt/sparkplug/metrics.js';
import { SparkplugNode } from '../mqtt/sparkplug/node.js';
import type { CommandPolicy, GuardedAction, RequestOrigin } from '../operator/command-policy.js';
import type { Suspensions } from '../operator/suspensions.js';
import type { Logger } from '../util/log.js';
import type { CameraSettings } from './camera-settings.js';
import type { ServiceBus } from './event-bus.js';
import type { LiveStatus } from './live-status.js';

export class SparkplugFeed {
  private readonly node: SparkplugNode;
  /** Results per camera since start (Inspection/Results). */
  private readonly results = new Map<string, number>();
  private unsubscribe: (() => void)[] = [];

  constructor(
    cfg: Config,
    private readonly deps: {
      /** The broker URL in use (the embedded broker's when mqtt.url is absent). */
      url?: string;
      bus: ServiceBus;
      settings: CameraSettings;
      suspensions: Pick<Suspensions, 'suspend' | 'resume'>;
      /** Who may write what (mqtt.commands); settings and suspensions check it again themselves. */
      policy?: Pick<CommandPolicy, 'check'>;
      status: LiveStatus;
      logger: Logger;
      softwareVersion: string;
      /** The active model bundle, in the NBIRTH. */
      model: { sha256: string; version: string };
      /** A state file could not be written (the bdSeq): counted; the node logs it and goes on. */
      stateWriteFailed?: (file: 'bdseq') => void;
    },
  ) {
    this.node = new SparkplugNode({
      ...sparkplugOptionsFromConfig(cfg, {
        url: deps.url,
        // the embedded broker (aedes) speaks MQTT 3.1.1 only
        protocolVersion: cfg.mqtt.url ? cfg.mqtt.protocolVersion : 4,
        logger: deps.logger,
        softwareVersion: deps.softwareVersion,
      }),
      model: deps.model,
    });
    this.node.on('bdseq-write-failed', () => deps.stateWriteFailed?.('bdseq'));
    const origin: RequestOrigin = {
      door: 'sparkplug',
      ...(cfg.mqtt.sparkplug.primaryHostId !== undefined && { clientId: cfg.mqtt.sparkplug.primaryHostId }),
    };
    this.node.onWrite((w) => {
      // every part of the write is authorised before any part changes anything
      const needs: GuardedAction[] = [];
      if (w.className !== undefined) needs.push('set-class');
      if (w.thresholds !== undefined) needs.push('set-thresholds');
      if (w.suspend !== undefined) needs.push(w.suspend.suspended ? 'suspend' : 'resume');
      for (const action of needs) deps.policy?.check(action, origin);
      let out: Partial<CameraMetrics> = {};
      if (w.className !== undefined || w.thresholds !== undefined) {
        const applied = deps.settings.apply(
          { cameraId: w.cameraId, className: w.className, thresholds: w.thresholds },
          origin,
        );
        out = { className: applied.className, ...thresholdMetrics(applied.thresholds) };
      }
      if (w.suspend?.suspended === true)
        deps.suspensions.suspend(w.cameraId, { durationS: w.suspend.durationS || undefined }, origin);
      else if (w.suspend?.suspended === false) deps.suspensions.resume(w.cameraId, origin);
      // the suspension's own metrics follow from the bus (suspension event)
      return out;
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
        node.update(cameraId, { cameraState: status.viewState(cameraId) ?? state });
      }),
      bus.on('settings', ({ cameraId, applied }) =>
        node.update(cameraId, { className: applied.className, ...thresholdMetrics(applied.thresholds) }),
      ),
      bus.on('result', (r) => {
        this.results.set(r.cameraId, (this.results.get(r.cameraId) ?? 0) + 1);
        node.update(r.cameraId, {
          resultId: r.id,
          resultPartId: r.partId ?? '',
          resultTriggerId: r.triggerId,
          resultVerdict: r.verdict,
          resultReason: r.reason ?? '',
          ...(r.score !== undefined && { resultScore: r.score }),
          results: this.results.get(r.cameraId),
        });
      }),
      bus.on('alarm', (a) =>
        node.update(a.cameraId, {
          alarmActive: a.active,
          alarmAcknowledged: a.acknowledged !== undefined,
          alarmAcknowledgedBy: a.acknowledged?.by ?? '',
        }),
      ),
      bus.on('suspension', ({ cameraId, suspension }) =>
        node.update(cameraId, {
          suspended: suspension !== undefined,
          suspendedUntil: suspension?.until ?? '',
          suspendDurationS: suspension?.until
            ? Math.round((Date.parse(suspension.until) - Date.parse(suspension.since)) / 1000)
            : 0,
          cameraState: suspension ? 'suspended' : (status.viewState(cameraId) ?? 'offline'),
        }),
      ),
    ];
    node.start();
  }

  async stop(): Promise<void> {
    for (const off of this.unsubscribe) off();
    await this.node.stop();
  }

  /** A camera started (or restarted) by a reload: its DBIRTH, with the settings of its config. */
  addCamera(cam: CameraConfig): void {
    this.node.addCamera(sparkplugCamera(cam));
  }

  /** A camera removed by a reload: its DDEATH. */
  removeCamera(cameraId: string): void {
    this.results.delete(cameraId);
    this.node.removeCamera(cameraId);
  }

  /** A new model bundle: births again, naming it. */
  setModel(model: { sha256: string; version: string }): void {
    this.node.setModel(model);
  }

  /** NBIRTH and DBIRTHs again (the rebirth command). */
  rebirth(): void {
    this.node.rebirth();
  }
}
