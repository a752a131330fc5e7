// What the JSON API's route plugins need from the service (src/service/dashboard-api.ts builds it).
// Types only: the routes know nothing of the pipeline, MQTT or the database behind these functions.
import type { HistoryStore } from '../../history/history-store.js';
import type { ReviewLabel, ReviewTarget } from '../../history/types.js';
import type { AcknowledgeOutcome } from '../../operator/acknowledgements.js';
import type { ReviewOutcome } from '../../operator/reviews.js';
import type { Suspension } from '../../operator/suspensions.js';
import type { ActionOrigin } from '../../operator/types.js';
import type { Readiness } from '../../service/readiness.js';
import type { ServiceStatus } from '../types.js';

/** One server-sent event of GET /api/stream. */
export interface StreamMessage {
  event: 'status' | 'anomaly' | 'result' | 'alarm' | 'frame';
  data: unknown;
}

export interface LiveFrame {
  jpeg: Buffer;
  seq: number;
  /** ISO capture time. */
  at: string;
}

export interface ApiDeps {
  status(): ServiceStatus;
  cameraIds(): string[];
  /** Absent when history.enabled is false: the history routes answer 503. */
  history?: Pick<HistoryStore, 'events' | 'event' | 'results' | 'result' | 'iterateResults' | 'reviews'>;
  /**
   * The reviewed images exported in the MVTec AD layout into a scratch folder (`dir`, with
   * `items` images); `remove()` deletes the folder. Absent: no export over HTTP.
   */
  exportReviews?(): Promise<{ dir: string; items: number; remove: () => Promise<void> }>;
  acknowledge(eventId: string, origin: ActionOrigin, comment?: string): AcknowledgeOutcome;
  review(
    kind: ReviewTarget,
    id: string,
    label: ReviewLabel,
    origin: ActionOrigin,
    comment?: string,
  ): Promise<ReviewOutcome>;
  suspend(cameraId: string, o: { durationS?: number; comment?: string }, origin: ActionOrigin): Suspension;
  /** False when the camera was not suspended. */
  resume(cameraId: string, origin: ActionOrigin): boolean;
  /** Through CameraSettings.apply; throws SettingError for a bad value. */
  setThresholds(cameraId: string, patch: Record<string, number>, origin: ActionOrigin): unknown;
  liveFrame(cameraId: string): Promise<LiveFrame> | undefined;
  readiness(): Readiness;
  /** Every stream message from now on; returns the unsubscribe function. */
  subscribe(listener: (m: StreamMessage) => void): () => void;
  /** Seconds between two status messages of the stream (2). */
  statusIntervalMs?: number;
}
