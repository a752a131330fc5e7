// Every reason a frame can leave the pipeline without being inspected. Each drop is counted (never
// silent): metrics, the dashboard and the MQTT stats read the counts by camera and reason.
export const DROP_REASONS = [
  /** Older than the camera's staleness budget when the batcher reached it. */
  'stale',
  /** Latest-wins: a newer frame of the same camera took its place in the bounded queue. */
  'replaced-by-newer',
  /** Every-Nth: not one of the frames selected for inspection. */
  'every-nth',
  /** The source could not decode it (e.g. a corrupt image file in a folder). */
  'unreadable-input',
  /** A trigger arrived while too many were already waiting: no frame was captured for it. */
  'trigger-rejected',
  /** An accepted trigger got no frame within the camera's captureTimeoutMs (camera down or slow). */
  'trigger-timeout',
  /** The camera is suspended by an operator: its frames are not inspected. */
  'suspended',
  'preprocess-error',
  'engine-error',
  'hsf-error',
  'decide-error',
  'publish-error',
  /** Still queued or in flight when the shutdown drain time ran out. */
  'shutdown',
] as const;

export type DropReason = (typeof DROP_REASONS)[number];
