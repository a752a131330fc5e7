import type { Mat } from '@u4/opencv4nodejs';

/** One image from a camera, as it leaves a source. The image is BGR uint8 (OpenCV's layout). */
export interface Frame {
  cameraId: string;
  /** Per-camera sequence number, starting at 0 when the source opens, never reused within a run. */
  seq: number;
  /** performance.now() at capture, for latency arithmetic (monotonic). */
  capturedAtMono: number;
  /** Date.now() at capture, for humans and SCADA (wall clock). */
  capturedAtWall: number;
  image: Mat;
  /** Size of the image as captured (before ROI and rotation, which preprocessing applies). */
  originalSize?: { width: number; height: number };
  /** Part or trigger id carried from an external trigger (PLC, MQTT, HTTP). */
  partId?: string;
  triggerId?: string;
  /** performance.now() when the trigger arrived (trigger sources only): trigger-to-decision latency. */
  triggeredAtMono?: number;
  /** For folder sources: the file the frame came from. */
  sourcePath?: string;
  /** Defect mask known to a synthetic source (uint8, 255 = defect), for evaluation. */
  truthMask?: Mat;
  /** Defect kinds rendered into this frame by a synthetic source (empty: a good frame). */
  truthDefects?: string[];
}
