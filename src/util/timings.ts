/** Per-frame stage timings in milliseconds, filled in as the frame moves through the pipeline. */
export interface StageTimings {
  wait?: number;
  queue?: number;
  preprocess?: number;
  engine?: number;
  hsf?: number;
  decide?: number;
  publish?: number;
  total?: number;
}
