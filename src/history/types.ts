// What the history stores and answers: rows as the HTTP API returns them (the published document
// plus what operators added), the queries, and the operator records.
import type { AnomalyEvent } from '../events/anomaly-event.js';
import type { InspectionResult, Verdict } from '../events/inspection-result.js';

export type ReviewLabel = 'false-positive' | 'confirmed';
export type ReviewTarget = 'event' | 'result';

export interface Acknowledgement {
  /** The alarm (id of its raise event). */
  alarmId: string;
  /** The event the operator acknowledged it from. */
  eventId: string;
  by: string;
  /** ISO time. */
  at: string;
  comment?: string;
}

export interface Review {
  kind: ReviewTarget;
  targetId: string;
  label: ReviewLabel;
  by: string;
  at: string;
  comment?: string;
}

export type RowReview = Pick<Review, 'label' | 'by' | 'at' | 'comment'>;

export type EventRow = AnomalyEvent & { review?: RowReview; acknowledged?: Acknowledgement };
export type ResultRow = InspectionResult & { review?: RowReview };

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` for the next (older) page; absent on the last page. */
  next?: string;
}

interface TimeQuery {
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, exclusive. */
  until?: number;
  limit: number;
  /** Id of the last row of the previous page. */
  cursor?: string;
}

export interface EventQuery extends TimeQuery {
  camera?: string;
  severity?: AnomalyEvent['severity'];
}

export interface ResultQuery extends TimeQuery {
  camera?: string;
  verdict?: Verdict;
  partId?: string;
}

export interface StoredSuspension {
  cameraId: string;
  since: string;
  /** Absent: until resumed. */
  until?: string;
  by: string;
  door: string;
  comment?: string;
}
