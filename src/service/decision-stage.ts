// The pipeline's decide stage: each camera's Decider on the model's result, then the event document
// for an alarm transition (built here, inside the stage, so the pipeline's decide timing covers it).
import type { CameraConfig } from '../config/schema.js';
import { AlarmEventBuilder, type EventContext } from '../events/alarm-events.js';
import type { AnomalyEvent } from '../events/anomaly-event.js';
import type { FrameJob } from '../pipeline/stages.js';
import { Decider, type DecideResult } from '../postprocess/decide.js';
import type { Logger } from '../util/log.js';
import type { ModelResult } from './model-stages.js';

/** The decision, its event on an alarm transition, and where its map came from (for snapshots). */
export interface Decided {
  decision: DecideResult;
  event?: AnomalyEvent;
  result: ModelResult;
}

export class DecisionStage {
  private readonly deciders = new Map<string, Decider>();
  private readonly events: AlarmEventBuilder;

  constructor(
    cameras: readonly CameraConfig[],
    context: EventContext,
    private readonly logger: Logger,
  ) {
    for (const cam of cameras) this.deciders.set(cam.id, new Decider(cam, { logger }));
    this.events = new AlarmEventBuilder(context);
  }

  /** Throws what a Decider would for this camera's config (a reload checks before it changes anything). */
  checkCamera(cam: CameraConfig): void {
    new Decider(cam, { logger: this.logger });
  }

  /** A camera started by a reload (or restarted with a changed config): a fresh Decider. */
  addCamera(cam: CameraConfig): void {
    this.events.forget(cam.id);
    this.deciders.set(cam.id, new Decider(cam, { logger: this.logger }));
  }

  /** A camera removed by a reload, once its last frame is decided. */
  removeCamera(cameraId: string): void {
    this.deciders.delete(cameraId);
    this.events.forget(cameraId);
  }

  /** The Decider of a camera; throws for an unknown camera id. */
  decider(cameraId: string): Decider {
    const decider = this.deciders.get(cameraId);
    if (!decider) throw new Error(`no camera ${JSON.stringify(cameraId)}`);
    return decider;
  }

  /** The camera's live pixel threshold (-Infinity for an unknown camera: everything is smoothed). */
  pixelThreshold(cameraId: string): number {
    return this.deciders.get(cameraId)?.getThresholds().pixel ?? -Infinity;
  }

  decide = (result: ModelResult, job: FrameJob): Decided => {
    const decision = this.decider(job.frame.cameraId).decide({
      seq: job.frame.seq,
      capturedAtWall: job.frame.capturedAtWall,
      capturedAtMono: job.frame.capturedAtMono,
      partId: job.frame.partId,
      triggerId: job.frame.triggerId,
      score: result.score,
      scoreWithoutHsf: result.scoreWithoutHsf,
      // smoothed wherever a region can be, raw where neither reaches the threshold (region-map.ts)
      mapSmoothed: result.regionMap,
      mapSize: result.mapSize,
      source: result.source,
      timings: job.timings,
    });
    return { decision, event: this.events.fromDecision(decision, result.model), result };
  };
}
