/** A defect region in original frame pixels (found by postprocess/regions.ts, carried by events). */
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
