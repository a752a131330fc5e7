// The one interface every frame source implements (OpenCV VideoCapture, folder, synthetic line,
// trigger), and the life-cycle states a supervised camera reports.
import type { Frame } from './frame.js';

export interface FrameSource {
  /**
   * True when frames come at the source's own pace (a camera, a stream, the synthetic line, a folder
   * with fps): the admission policy decides what to drop. False when frames come as fast as they are
   * read (a folder or video file without fps, a trigger): the pipeline pauses the source instead.
   */
  readonly realtime: boolean;
  /**
   * True for a device or network stream that keeps producing whether read or not (its driver buffers
   * frames): a trigger source keeps draining it so "the next frame" really is the next one.
   */
  readonly live: boolean;
  /** Throws a clear error when the source cannot be opened (missing file, unreachable camera). */
  open(): Promise<void>;
  /**
   * The next frame, or null at the end of a finite source. Never called concurrently. cameraId and
   * seq of the returned frame are set by the supervisor (sources may leave them empty / 0).
   */
  read(): Promise<Frame | null>;
  /** Releases the device; safe to call twice and while a read() is pending. */
  close(): Promise<void>;
}

/** Matches CameraState in metrics/prometheus.ts: what the MQTT and dashboard layers show. */
export type SourceState = 'online' | 'stalled' | 'reconnecting' | 'offline';

export interface SourceStateEvent {
  cameraId: string;
  state: SourceState;
  /** Date.now() of the change. */
  at: number;
  /** Why: "opening", "first frame", "read failed: ...", "no frame for 5000 ms", "end of input", "stopped". */
  reason: string;
  /** Consecutive failed attempts so far (reconnecting/offline). */
  attempt?: number;
  /** Delay before the next attempt, ms (reconnecting/offline). */
  retryInMs?: number;
}

/** Something that hands out frames a trigger asked for (MQTT command, HTTP POST, PLC). */
export interface Triggerable {
  /** Captures the next frame for this part; returns the trigger id the frame will carry. */
  trigger(partId?: string): string;
}
