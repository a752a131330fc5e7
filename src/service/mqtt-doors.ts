// The ways into the service over MQTT JSON: the request/response commands (parsed, validated and
// allow-listed by mqtt/commands.ts before they get here) and the PLC trigger topics of trigger
// cameras. Settings changes go through CameraSettings.apply, suspensions through Suspensions, like
// those of every other door.
import type { CameraConfig } from '../config/schema.js';
import type { CommandHandlers } from '../mqtt/commands.js';
import type { MqttLink } from '../mqtt/mqtt-link.js';
import type { Suspensions } from '../operator/suspensions.js';
import type { Logger } from '../util/log.js';
import type { CameraSettings } from './camera-settings.js';

export function mqttCommandHandlers(deps: {
  settings: CameraSettings;
  suspensions: Pick<Suspensions, 'suspend' | 'resume'>;
  /** Captures the next frame of a trigger camera; returns the trigger id, throws when refused. */
  trigger: (cameraId: string, partId: string | undefined) => string;
  status: () => unknown;
  /** Sparkplug births and retained camera states again. */
  rebirth: () => void;
  /** Re-reads the config file and applies what changed (Service.reload). */
  reload?: () => Promise<unknown>;
  /** Swaps in a verified bundle (Service.loadBundle). */
  loadBundle?: (path: string, sha256: string) => Promise<unknown>;
}): CommandHandlers {
  // the router has checked the command policy for every command with this origin; settings and
  // suspensions check it again at their one authorisation point, like those of every other door
  return {
    setClass: (cameraId, className, origin) => ({
      className: deps.settings.apply({ cameraId, className }, origin).className,
    }),
    setThresholds: (cameraId, thresholds, calibration, origin) => ({
      thresholds: deps.settings.apply({ cameraId, thresholds, calibration }, origin).thresholds,
      ...(calibration && { calibration }),
    }),
    trigger: (cameraId, partId) => ({ triggerId: deps.trigger(cameraId, partId) }),
    status: () => deps.status(),
    rebirth: () => {
      deps.rebirth();
      return { rebirth: true };
    },
    suspend: (cameraId, o, origin) => ({ suspension: deps.suspensions.suspend(cameraId, o, origin) }),
    resume: (cameraId, origin) => ({ resumed: deps.suspensions.resume(cameraId, origin) }),
    ...(deps.reload && { reload: deps.reload }),
    ...(deps.loadBundle && { loadBundle: deps.loadBundle }),
  };
}

/**
 * A trigger camera with an mqttTopic captures the next frame when a message arrives there (also one
 * started by a reload); nothing for other cameras.
 */
export function subscribeTriggerTopic(
  cam: CameraConfig,
  link: MqttLink,
  /** False when the trigger was refused (logged by the caller). */
  trigger: (cameraId: string, partId?: string) => boolean,
  logger: Logger,
): void {
  if (cam.source.kind !== 'trigger' || !cam.source.mqttTopic) return;
  const topic = cam.source.mqttTopic;
  link.subscribe(topic, (payload) => {
    if (!trigger(cam.id, parsePartId(payload)))
      logger.warn({ camera: cam.id, topic }, 'trigger message ignored');
  });
}

/** A trigger payload is a bare part id, or JSON with a partId field; anything else: no part id. */
export function parsePartId(payload: Buffer): string | undefined {
  const text = payload.toString('utf8').trim();
  if (text.length === 0 || text.length > 128) return undefined;
  if (text.startsWith('{')) {
    try {
      const v = (JSON.parse(text) as { partId?: unknown }).partId;
      return typeof v === 'string' && v.length <= 128 ? v : undefined;
    } catch {
      return undefined;
    }
  }
  return /^[\x20-\x7e]+$/.test(text) ? text : undefined;
}
