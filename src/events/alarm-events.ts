// From decisions to event documents: every alarm transition (raise, clear) of a decision becomes one
// versioned AnomalyEvent, stamped with the site, line and model. A clear names the alarm it ends by
// the id of that alarm's raise event, so the builder remembers each camera's open alarm.
import type { DecideResult } from '../postprocess/decide.js';
import { buildEvent, type AnomalyEvent } from './anomaly-event.js';
import type { ModelProvenance } from './provenance.js';

/** Site, line and model identity stamped on every event. */
export interface EventContext {
  site: string;
  line: string;
  model: ModelProvenance;
}

export class AlarmEventBuilder {
  /** Camera id -> id of the raise event of its open alarm. */
  private readonly openAlarms = new Map<string, string>();

  constructor(private readonly context: EventContext) {}

  /**
   * The event of a decision's alarm transition (snapshot references still to attach), if it has one;
   * `model`: the model that scored the frame, when it is not the context's (a bundle swapped since).
   */
  fromDecision(d: DecideResult, model: ModelProvenance = this.context.model): AnomalyEvent | undefined {
    const { transition, alarm, detection } = d;
    if (!transition || !alarm) return undefined;
    const cameraId = detection.cameraId;
    const event = buildEvent({
      transition,
      alarmId: transition === 'raise' ? undefined : this.openAlarms.get(cameraId),
      active: d.active,
      site: this.context.site,
      line: this.context.line,
      cameraId,
      frameSeq: detection.seq,
      capturedAtWall: alarm.capturedAtWall,
      decidedAtWall: alarm.decidedAtWall,
      partId: alarm.partId,
      triggerId: alarm.triggerId,
      className: detection.className,
      score: detection.score,
      scoreWithoutHsf: detection.scoreWithoutHsf,
      thresholds: alarm.thresholds,
      anomalous: detection.anomalous,
      severity: d.severity,
      alarm: {
        raisedAtWall: alarm.raisedAtWall,
        peakScore: alarm.peakScore,
        frames: alarm.frames,
        clearedAtWall: alarm.clearedAtWall,
      },
      window: alarm.window,
      regions: detection.regions,
      regionCount: detection.regionsTotal ?? detection.regions.length,
      model,
      timings: detection.timings,
    });
    if (transition === 'raise') this.openAlarms.set(cameraId, event.id);
    else this.openAlarms.delete(cameraId);
    return event;
  }

  /** A camera removed or restarted by a reload: its open alarm (if any) is no longer followed. */
  forget(cameraId: string): void {
    this.openAlarms.delete(cameraId);
  }
}
