import type { Region } from '../geometry/region.js';
import type { StageTimings } from '../util/timings.js';

/** The model's verdict on one frame, before the temporal filter and event building. */
export interface Detection {
  cameraId: string;
  seq: number;
  className: string;
  score: number;
  scoreWithoutHsf: number;
  /** Smoothed map, float32 [S,S] (kept for snapshots and the dashboard). */
  mapSmoothed: Float32Array;
  mapSize: number;
  regions: Region[];
  /** Regions that passed the area filter before the per-event cap (regions.length when absent). */
  regionsTotal?: number;
  anomalous: boolean;
  timings: StageTimings;
}
