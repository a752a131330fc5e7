import type { StageTimings } from '../util/timings.js';

/** A defect region in original frame pixels. */
export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
  areaPx: number;
  areaPct: number;
  maxScore: number;
  meanScore: number;
  centroid: { x: number; y: number };
}

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
