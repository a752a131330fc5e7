// The decision stage for one camera: thresholds the image score and the smoothed map, extracts defect
// regions in frame pixels, runs the temporal filter (k of n, hysteresis, cooldown) and, on every alarm
// transition (raise, clear), reports the alarm's facts. The decision is plain data: the versioned
// event document is built from it in src/events/alarm-events.ts. Thresholds and the class name can
// be changed while running (src/service/camera-settings.ts); changes apply from the next frame on.
import { z } from 'zod';
import type { Logger } from '../util/log.js';
import type { StageTimings } from '../util/timings.js';
import type { Detection } from './detection.js';
import type { MapSource, Rect, Rotation } from '../geometry/map-to-frame.js';
import { DEFAULT_MAX_REGIONS, extractRegions, type RegionExtent } from './regions.js';
import { silencingProblems } from '../config/silencing.js';
import { severityOf, validateSeverityLevels, type Severity, type SeverityLevels } from './severity.js';
import { TemporalFilter, type TemporalConfig, type Transition } from './temporal.js';

export interface Thresholds {
  image: number;
  pixel: number;
  /** Hysteresis: an active alarm clears when the score falls below this. Defaults to `image`. */
  clear: number;
  minRegionAreaPct: number;
}

/** The parts of a camera's config the decision needs (CameraConfig satisfies it). */
export interface DecisionCamera {
  id: string;
  className: string;
  rotate?: Rotation;
  /** What a region's box measures (regions.ts); default 'threshold'. */
  regionExtent?: RegionExtent;
  thresholds: { image: number; pixel: number; clear?: number; minRegionAreaPct: number };
  decision: TemporalConfig & { severity: SeverityLevels };
  /** Thresholds and a cooldown that would silence the camera are allowed (silencing.ts). */
  allowDisable?: boolean;
}

export interface DecideInput {
  seq: number;
  /** Date.now() at capture. */
  capturedAtWall: number;
  /** performance.now() at capture; the cooldown runs on it (falls back to the wall clock). */
  capturedAtMono?: number;
  partId?: string;
  triggerId?: string;
  score: number;
  scoreWithoutHsf: number;
  /** Smoothed anomaly map, float32 [S,S]. */
  mapSmoothed: Float32Array;
  mapSize: number;
  /** Captured frame size and the upright ROI that was resized (ImageTensor.source fits). */
  source: { width: number; height: number; roi: Rect; rotate?: Rotation };
  timings?: StageTimings;
}

/** An alarm raised or cleared by a frame: what its event says besides the detection. */
export interface AlarmChange {
  capturedAtWall: number;
  decidedAtWall: number;
  partId?: string;
  triggerId?: string;
  /** The thresholds the frame was judged by. */
  thresholds: Thresholds;
  raisedAtWall: number;
  /** Highest score and frames of the alarm so far (this frame included). */
  peakScore: number;
  frames: number;
  /** On a clear: when the clearing frame was captured. */
  clearedAtWall?: number;
  window: { k: number; n: number; hits: number };
}

export interface DecideResult {
  detection: Detection;
  severity: Severity;
  /** Alarm state after this frame. */
  active: boolean;
  transition?: Transition;
  /** Present with a transition. */
  alarm?: AlarmChange;
  suppressedByCooldown: boolean;
  /** The thresholds this frame was judged by (a per-part result reports them). */
  thresholds: Thresholds;
}

export interface DeciderOptions {
  logger?: Logger;
  maxRegions?: number;
  /** Wall clock for decidedAt (tests pin it). */
  now?: () => number;
}

export class DecisionInputError extends Error {
  override name = 'DecisionInputError';
}

const thresholdPatchSchema = z.strictObject({
  image: z.number().min(0).max(1).optional(),
  pixel: z.number().min(0).max(1).optional(),
  clear: z.number().min(0).max(1).optional(),
  minRegionAreaPct: z.number().min(0).max(100).optional(),
});
export type ThresholdPatch = z.infer<typeof thresholdPatchSchema>;

const classNameSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  // eslint-disable-next-line no-control-regex
  .regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters');

/** Thrown by setThresholds/setClassName: nothing was changed. */
export class SettingError extends Error {
  override name = 'SettingError';
}

interface AlarmState {
  raisedAtWall: number;
  peakScore: number;
  frames: number;
}

export class Decider {
  readonly cameraId: string;
  private className: string;
  private thresholds: Thresholds;
  /** Whether `clear` was set explicitly; otherwise it follows `image`. */
  private clearExplicit: boolean;
  private readonly temporal: TemporalFilter;
  private readonly decision: TemporalConfig & { severity: SeverityLevels };
  private alarm?: AlarmState;
  private readonly rotate: Rotation;
  private readonly regionExtent: RegionExtent;
  private readonly now: () => number;
  private readonly allowDisable: boolean;

  constructor(
    camera: DecisionCamera,
    private readonly opts: DeciderOptions = {},
  ) {
    this.cameraId = camera.id;
    this.allowDisable = camera.allowDisable ?? false;
    // k > n is refused by the temporal filter whatever allowDisable says
    const cooldown = silencingProblems({
      thresholds: { image: 0, pixel: 0, minRegionAreaPct: 0 },
      decision: camera.decision,
    }).filter((p) => p.key === 'decision.cooldownMs');
    if (!this.allowDisable && cooldown.length > 0)
      throw new SettingError(`${cooldown[0].key}: ${cooldown[0].problem} (allowDisable: true allows it)`);
    this.className = parseClassName(camera.className);
    this.rotate = camera.rotate ?? 0;
    this.regionExtent = camera.regionExtent ?? 'threshold';
    validateSeverityLevels(camera.decision.severity);
    this.decision = {
      k: camera.decision.k,
      n: camera.decision.n,
      cooldownMs: camera.decision.cooldownMs,
      severity: { ...camera.decision.severity },
    };
    this.temporal = new TemporalFilter(this.decision);
    this.clearExplicit = camera.thresholds.clear !== undefined;
    this.thresholds = { image: 0, pixel: 0, clear: 0, minRegionAreaPct: 0 };
    this.thresholds = this.merged(camera.thresholds);
    this.now = opts.now ?? Date.now;
  }

  getThresholds(): Thresholds {
    return { ...this.thresholds };
  }

  getClassName(): string {
    return this.className;
  }

  get alarmActive(): boolean {
    return this.temporal.isActive;
  }

  /** Validates and applies a partial update; throws SettingError (and changes nothing) when invalid. */
  setThresholds(patch: unknown): Thresholds {
    return this.applySettings({ thresholds: patch }).thresholds;
  }

  /** Validates and applies a new class name; throws SettingError (and changes nothing) when invalid. */
  setClassName(name: unknown): string {
    return this.applySettings({ className: name }).className;
  }

  /**
   * Class name and thresholds together, all or nothing (a Sparkplug DCMD or MQTT command may carry
   * both): everything is validated before anything changes.
   */
  applySettings(s: { className?: unknown; thresholds?: unknown }): {
    className: string;
    thresholds: Thresholds;
  } {
    const className = s.className !== undefined ? parseClassName(s.className) : this.className;
    let thresholds = this.thresholds;
    let clearExplicit = this.clearExplicit;
    if (s.thresholds !== undefined) {
      const r = thresholdPatchSchema.safeParse(s.thresholds);
      if (!r.success) {
        const why = r.error.issues.map((i) => `${i.path.join('.') || 'thresholds'}: ${i.message}`).join('; ');
        throw new SettingError(`invalid thresholds: ${why}`);
      }
      thresholds = this.merged(r.data);
      clearExplicit ||= r.data.clear !== undefined;
    }
    if (className !== this.className)
      this.opts.logger?.info({ cameraId: this.cameraId, className }, 'class name changed');
    if (thresholds !== this.thresholds)
      this.opts.logger?.info({ cameraId: this.cameraId, thresholds }, 'thresholds changed');
    this.className = className;
    this.thresholds = thresholds;
    this.clearExplicit = clearExplicit;
    return { className, thresholds: { ...thresholds } };
  }

  decide(input: DecideInput): DecideResult {
    const t0 = performance.now();
    checkInput(input);
    const th = this.thresholds;
    const src: MapSource = { ...input.source, rotate: input.source.rotate ?? this.rotate };
    const { regions, total } = extractRegions(input.mapSmoothed, input.mapSize, src, {
      pixelThreshold: th.pixel,
      minAreaPct: th.minRegionAreaPct,
      maxRegions: this.opts.maxRegions ?? DEFAULT_MAX_REGIONS,
      extent: this.regionExtent,
    });
    const anomalous = input.score >= th.image;
    const severity = severityOf(input.score, this.decision.severity);
    const step = this.temporal.step(
      input.score,
      input.capturedAtMono ?? input.capturedAtWall,
      th.image,
      th.clear,
    );

    const timings: StageTimings = { ...(input.timings ?? {}) };
    const detection: Detection = {
      cameraId: this.cameraId,
      seq: input.seq,
      className: this.className,
      score: input.score,
      scoreWithoutHsf: input.scoreWithoutHsf,
      mapSmoothed: input.mapSmoothed,
      mapSize: input.mapSize,
      regions,
      regionsTotal: total,
      anomalous,
      timings,
    };
    const result: DecideResult = {
      detection,
      severity,
      active: step.active,
      suppressedByCooldown: step.suppressedByCooldown,
      thresholds: { ...th },
    };

    if (step.transition === 'raise') {
      this.alarm = { raisedAtWall: input.capturedAtWall, peakScore: input.score, frames: 1 };
    } else if (this.alarm && step.active) {
      this.alarm.frames++;
      this.alarm.peakScore = Math.max(this.alarm.peakScore, input.score);
    }
    timings.decide = performance.now() - t0;

    if (step.transition && this.alarm) {
      result.transition = step.transition;
      result.alarm = {
        capturedAtWall: input.capturedAtWall,
        decidedAtWall: this.now(),
        partId: input.partId,
        triggerId: input.triggerId,
        thresholds: { ...th },
        raisedAtWall: this.alarm.raisedAtWall,
        peakScore: this.alarm.peakScore,
        frames: this.alarm.frames,
        clearedAtWall: step.transition === 'clear' ? input.capturedAtWall : undefined,
        window: { k: this.decision.k, n: this.decision.n, hits: step.hits },
      };
      if (step.transition === 'clear') this.alarm = undefined;
    }
    return result;
  }

  /** Forgets the temporal window and any active alarm (a camera that went offline and came back). */
  reset(): void {
    this.temporal.reset();
    this.alarm = undefined;
  }

  private merged(patch: ThresholdPatch): Thresholds {
    const image = patch.image ?? this.thresholds.image;
    const clear = patch.clear ?? (this.clearExplicit ? this.thresholds.clear : image);
    const next: Thresholds = {
      image,
      pixel: patch.pixel ?? this.thresholds.pixel,
      clear,
      minRegionAreaPct: patch.minRegionAreaPct ?? this.thresholds.minRegionAreaPct,
    };
    for (const [k, v] of Object.entries(next)) {
      const max = k === 'minRegionAreaPct' ? 100 : 1;
      if (!(Number.isFinite(v) && v >= 0 && v <= max))
        throw new SettingError(`invalid thresholds: ${k} must be in [0, ${max}], got ${v}`);
    }
    if (next.clear > next.image)
      throw new SettingError(
        `invalid thresholds: clear (${next.clear}) must not exceed image (${next.image}), or an alarm could never clear`,
      );
    if (!this.allowDisable) {
      const silencing = silencingProblems({ thresholds: next });
      if (silencing.length > 0)
        throw new SettingError(
          `invalid thresholds: ${silencing.map((p) => `${p.key.replace('thresholds.', '')} ${p.problem}`).join('; ')} (only a camera with allowDisable: true in its config may be silenced)`,
        );
    }
    return next;
  }
}

function parseClassName(name: unknown): string {
  const r = classNameSchema.safeParse(name);
  if (!r.success)
    throw new SettingError(`invalid class name: ${r.error.issues.map((i) => i.message).join('; ')}`);
  return r.data;
}

function checkInput(input: DecideInput): void {
  if (!Number.isFinite(input.score))
    throw new DecisionInputError(`score must be a finite number, got ${input.score}`);
  if (!Number.isFinite(input.scoreWithoutHsf))
    throw new DecisionInputError(`scoreWithoutHsf must be a finite number, got ${input.scoreWithoutHsf}`);
  if (!Number.isInteger(input.seq) || input.seq < 0)
    throw new DecisionInputError(`seq must be a non-negative integer, got ${input.seq}`);
  if (!Number.isFinite(input.capturedAtWall))
    throw new DecisionInputError(`capturedAtWall must be epoch milliseconds, got ${input.capturedAtWall}`);
}
