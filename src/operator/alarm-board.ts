// Each camera's alarm as operators see it: active or not, since when, which alarm (the id of its
// raise event), and whether someone acknowledged it. Fed with every durable anomaly event; every
// change goes to `changed` (the retained `<base>/<camera>/alarm`, Sparkplug, the live page).
// A service starts with every alarm inactive: the decision stage starts without an open alarm too.
import type { AnomalyEvent } from '../events/anomaly-event.js';
import type { Acknowledgement } from '../history/types.js';

export interface AlarmState {
  cameraId: string;
  active: boolean;
  /** The current (active) or last (cleared) alarm: the id of its raise event. */
  alarmId?: string;
  /** The event that raised it. */
  eventId?: string;
  severity?: AnomalyEvent['severity'];
  /** When it was raised; when it was cleared. */
  since?: string;
  clearedAt?: string;
  acknowledged?: Omit<Acknowledgement, 'alarmId' | 'eventId'>;
}

export class AlarmBoard {
  private readonly states = new Map<string, AlarmState>();

  constructor(
    cameraIds: readonly string[],
    private readonly changed: (s: AlarmState) => void,
  ) {
    for (const id of cameraIds) this.states.set(id, { cameraId: id, active: false });
  }

  /**
   * A camera started by a reload, or restarted with a changed config: it starts without an alarm,
   * like its new Decider (an alarm it had open ends without a clear event; announced as inactive).
   */
  add(cameraId: string): void {
    const s: AlarmState = { cameraId, active: false };
    this.states.set(cameraId, s);
    this.changed(structuredClone(s));
  }

  /** A camera removed by a reload. */
  remove(cameraId: string): void {
    this.states.delete(cameraId);
  }

  /** A copy of the camera's alarm state; throws for an unknown camera. */
  get(cameraId: string): AlarmState {
    return structuredClone(this.state(cameraId));
  }

  all(): AlarmState[] {
    return [...this.states.values()].map((s) => structuredClone(s));
  }

  /** A durable anomaly event: a raise opens the camera's alarm, a clear closes it. */
  onEvent(e: AnomalyEvent): void {
    const prev = this.state(e.cameraId);
    const next: AlarmState =
      e.transition === 'raise'
        ? {
            cameraId: e.cameraId,
            active: true,
            alarmId: e.alarmId,
            eventId: e.id,
            severity: e.severity,
            since: e.alarm.raisedAt,
          }
        : {
            ...prev,
            active: false,
            alarmId: e.alarmId,
            clearedAt: e.alarm.clearedAt ?? e.capturedAt,
            // a clear of an alarm acknowledged before keeps who acknowledged it
            ...(prev.alarmId !== e.alarmId && { acknowledged: undefined }),
          };
    if (!next.acknowledged) delete next.acknowledged;
    this.states.set(e.cameraId, next);
    this.changed(structuredClone(next));
  }

  /**
   * Records an acknowledgement of `alarmId`. When that is the camera's current alarm (open, or the
   * last one cleared) its state carries the acknowledgement; either way the state is announced again.
   * Returns whether the acknowledged alarm is the one open now.
   */
  acknowledge(cameraId: string, ack: Acknowledgement): boolean {
    const s = this.state(cameraId);
    const current = s.alarmId === ack.alarmId;
    if (current)
      s.acknowledged = { by: ack.by, at: ack.at, ...(ack.comment !== undefined && { comment: ack.comment }) };
    this.changed(structuredClone(s));
    return current && s.active;
  }

  private state(cameraId: string): AlarmState {
    const s = this.states.get(cameraId);
    if (!s) throw new Error(`no camera ${JSON.stringify(cameraId)}`);
    return s;
  }
}
