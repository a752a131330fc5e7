// Acknowledging an alarm: an operator says "seen" for the alarm an event belongs to (who, when,
// optional comment). Stored in the history; the camera's alarm state (retained on MQTT, Sparkplug,
// the live page) then carries it. An alarm that has cleared meanwhile may still be acknowledged
// (for the record): its camera's state is announced again as it is, cleared.
import type { HistoryStore } from '../history/history-store.js';
import type { Acknowledgement } from '../history/types.js';
import type { AlarmBoard, AlarmState } from './alarm-board.js';
import { actorOf, allowAll, OperatorError, type ActionOrigin, type Authorise } from './types.js';

export interface AcknowledgeOutcome {
  acknowledgement: Acknowledgement;
  /** The camera's alarm state after the acknowledgement. */
  alarm: AlarmState;
  /** Whether the acknowledged alarm is still active. */
  active: boolean;
}

export class Acknowledgements {
  constructor(
    private readonly deps: {
      history?: HistoryStore;
      board: AlarmBoard;
      authorise?: Authorise;
      /** Called after every stored acknowledgement (metrics). */
      acknowledged?: (cameraId: string) => void;
      now?: () => number;
    },
  ) {}

  acknowledge(eventId: string, origin: ActionOrigin, comment?: string): AcknowledgeOutcome {
    const { history, board } = this.deps;
    if (!history)
      throw new OperatorError(503, 'history: disabled (history.enabled is false), nothing to acknowledge');
    const event = history.event(eventId);
    if (!event) throw new OperatorError(404, `no event ${JSON.stringify(eventId)}`);
    (this.deps.authorise ?? allowAll)('acknowledge', event.cameraId, origin);
    const before = history.acknowledgement(event.alarmId);
    if (before)
      throw new OperatorError(409, `alarm ${event.alarmId} was acknowledged by ${before.by} at ${before.at}`);
    const ack: Acknowledgement = {
      alarmId: event.alarmId,
      eventId,
      by: actorOf(origin),
      at: new Date((this.deps.now ?? Date.now)()).toISOString(),
      ...(comment !== undefined && comment.length > 0 && { comment }),
    };
    // two requests at once: the second finds the row stored by the first
    if (!history.addAcknowledgement({ ...ack, cameraId: event.cameraId }))
      throw new OperatorError(409, `alarm ${event.alarmId} was acknowledged meanwhile`);
    const active = board.acknowledge(event.cameraId, ack);
    this.deps.acknowledged?.(event.cameraId);
    return { acknowledgement: ack, alarm: board.get(event.cameraId), active };
  }
}
