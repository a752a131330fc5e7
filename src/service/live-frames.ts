// The latest frame of each camera for the dashboard's live tiles: the picture with the heatmap
// overlay and the region boxes drawn (the snapshot overlay's rendering, src/events/snapshots.ts).
// The publish stage offers every frame; at most one per minIntervalMs per camera is kept (a copy of
// its pixels, since the pipeline frees them after publishing), and it is rendered and encoded only
// when someone asks, once per kept frame.
import type { Mat } from '@u4/opencv4nodejs';
import { renderOverlay } from '../events/snapshots.js';
import type { DecideResult } from '../postprocess/decide.js';
import type { Frame } from '../sources/frame.js';
import type { Logger } from '../util/log.js';
import { loadOpenCV } from '../util/opencv.js';
import type { ModelResult } from './model-stages.js';

export interface LiveJpeg {
  jpeg: Buffer;
  /** The frame's sequence number: the ETag. */
  seq: number;
  /** Capture time (ISO): Last-Modified. */
  at: string;
}

interface Kept {
  image: Mat;
  seq: number;
  capturedAtWall: number;
  result: ModelResult;
  decision: DecideResult;
  keptAtMono: number;
  rendered?: Promise<LiveJpeg>;
}

export class LiveFrames {
  private readonly latest = new Map<string, Kept>();

  constructor(
    private readonly deps: {
      /** The whole smoothed map of a result (ModelStages.smoothed). */
      smoothed: (r: ModelResult) => Float32Array;
      /** A new frame was kept (the live page's "frame" event). */
      kept?: (cameraId: string, seq: number, at: string) => void;
      minIntervalMs?: number;
      jpegQuality?: number;
      logger?: Logger;
    },
  ) {}

  /** Keeps a copy of the frame when the camera's last kept one is old enough. Never throws. */
  offer(frame: Frame, decision: DecideResult, result: ModelResult): void {
    try {
      const prev = this.latest.get(frame.cameraId);
      const now = performance.now();
      if (prev && now - prev.keptAtMono < (this.deps.minIntervalMs ?? 500)) return;
      const map = result.map.slice();
      const kept: Kept = {
        image: frame.image.copy(),
        seq: frame.seq,
        capturedAtWall: frame.capturedAtWall,
        // the engine may reuse its output buffers: keep a copy of the map (1 MB at 518 x 518)
        result: { ...result, map, mapSmoothed: result.mapSmoothed?.slice(), regionMap: map },
        decision,
        keptAtMono: now,
      };
      this.latest.set(frame.cameraId, kept);
      prev?.image.release();
      this.deps.kept?.(frame.cameraId, frame.seq, new Date(frame.capturedAtWall).toISOString());
    } catch (err) {
      this.deps.logger?.warn({ err, camera: frame.cameraId }, 'live frame not kept');
    }
  }

  /** The camera's latest kept frame as an overlay JPEG, or undefined before its first frame. */
  jpeg(cameraId: string): Promise<LiveJpeg> | undefined {
    const k = this.latest.get(cameraId);
    if (!k) return undefined;
    k.rendered ??= this.render(k);
    return k.rendered;
  }

  private async render(k: Kept): Promise<LiveJpeg> {
    const cv = loadOpenCV();
    const d = k.decision.detection;
    const overlay = renderOverlay(
      k.image,
      this.deps.smoothed(k.result),
      d.mapSize,
      k.result.source,
      d.regions,
    );
    const jpeg = await cv.imencodeAsync('.jpg', overlay, [
      cv.IMWRITE_JPEG_QUALITY,
      this.deps.jpegQuality ?? 80,
    ]);
    return { jpeg, seq: k.seq, at: new Date(k.capturedAtWall).toISOString() };
  }
}
