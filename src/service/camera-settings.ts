// A camera's run-time settings (class name, thresholds) and the one way to change them: apply().
// Every door comes through it with its origin: MQTT JSON commands (set-class, set-thresholds),
// Sparkplug B DCMD writes and the dashboard (POST /api/cameras/:id/thresholds). A change is first
// authorised (the command policy of mqtt.commands, the same for every door), then checked as a
// whole before anything changes (a good class name with a bad threshold changes nothing; thresholds
// that would silence the camera need its allowDisable); then the live camera config is replaced and
// the change is announced (the service puts it on its bus: pipeline, retained state, Sparkplug).
import type { Calibration, CameraConfig } from '../config/schema.js';
import type { CommandPolicy, RequestOrigin } from '../operator/command-policy.js';
import type { Thresholds } from '../postprocess/decide.js';
import type { Logger } from '../util/log.js';
import type { DecisionStage } from './decision-stage.js';

/** Which door a change came through, and who asked where the door can tell. */
export type SettingsOrigin = RequestOrigin;

export interface SettingsChange {
  cameraId: string;
  className?: string;
  /** A partial update, validated by the camera's Decider. */
  thresholds?: unknown;
  /** How these thresholds were calibrated (adaclip-edge calibrate --send). */
  calibration?: Calibration;
}

export interface AppliedSettings {
  className: string;
  thresholds: Thresholds;
}

export interface SettingsChanged {
  cameraId: string;
  /** The camera's config with the new settings. */
  camera: CameraConfig;
  applied: AppliedSettings;
  origin: SettingsOrigin;
}

export class CameraSettings {
  private readonly cameras = new Map<string, CameraConfig>();

  constructor(
    cameras: readonly CameraConfig[],
    private readonly deps: {
      decisions: DecisionStage;
      /** Throws for a class name the model cannot prompt with (ModelStages.checkClassName). */
      checkClassName: (name: string) => void;
      /** Called after every applied change. */
      changed: (c: SettingsChanged) => void;
      logger: Logger;
      /** Who may change what (mqtt.commands); absent: every door may change every setting. */
      policy?: Pick<CommandPolicy, 'check'>;
    },
  ) {
    for (const cam of cameras) this.cameras.set(cam.id, cam);
  }

  /** The camera's config with its current class name and thresholds; throws for an unknown id. */
  camera(cameraId: string): CameraConfig {
    const cam = this.cameras.get(cameraId);
    if (!cam) throw new Error(`no camera ${JSON.stringify(cameraId)}`);
    return cam;
  }

  /** A camera started (or restarted, changed) by a reload: its settings are the file's again. */
  add(cam: CameraConfig): void {
    this.cameras.set(cam.id, cam);
  }

  /** A camera removed by a reload. */
  remove(cameraId: string): void {
    this.cameras.delete(cameraId);
  }

  ids(): string[] {
    return [...this.cameras.keys()];
  }

  /** Validates and applies a change, all or nothing; throws (changing nothing) when refused. */
  apply(change: SettingsChange, origin: SettingsOrigin): AppliedSettings {
    this.authorise(change, origin);
    const { cameraId } = change;
    const decider = this.deps.decisions.decider(cameraId);
    if (change.className !== undefined) this.deps.checkClassName(change.className);
    const applied = decider.applySettings({ className: change.className, thresholds: change.thresholds });
    const camera = {
      ...this.camera(cameraId),
      className: applied.className,
      thresholds: { ...applied.thresholds },
      calibration: calibrationAfter(this.camera(cameraId).calibration, change),
    };
    this.cameras.set(cameraId, camera);
    this.deps.changed({ cameraId, camera, applied, origin });
    this.deps.logger.info({ camera: cameraId, door: origin.door, ...applied }, 'camera settings changed');
    return applied;
  }

  /**
   * THE authorisation point for settings: every door's change passes here with its origin before
   * anything is validated or changed. A class name needs "set-class", thresholds (with or without
   * a calibration record) "set-thresholds", under the command policy: mqtt.commands.enabled, its
   * allow-list and per-client rules, the same for JSON commands, Sparkplug DCMD and the dashboard.
   */
  private authorise(change: SettingsChange, origin: SettingsOrigin): void {
    this.camera(change.cameraId);
    const policy = this.deps.policy;
    if (!policy) return;
    if (change.className !== undefined) policy.check('set-class', origin);
    if (change.thresholds !== undefined || change.calibration !== undefined)
      policy.check('set-thresholds', origin);
  }
}

/**
 * A calibration record comes with calibrated thresholds; thresholds changed without one (by hand,
 * Sparkplug) are no longer the calibrated ones, so the record goes.
 */
function calibrationAfter(before: Calibration | undefined, change: SettingsChange): Calibration | undefined {
  if (change.calibration) return change.calibration;
  const t = change.thresholds;
  const touched = typeof t === 'object' && t !== null && ['image', 'pixel', 'clear'].some((k) => k in t);
  return touched ? undefined : before;
}
