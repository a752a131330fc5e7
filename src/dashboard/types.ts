/** What the dashboard shows and can do; the service implements it (src/service/live-status.ts). */
export interface CameraStatus {
  id: string;
  className: string;
  state: string;
  /** The camera captures on an external trigger (a trigger button is offered). */
  triggerable: boolean;
  thresholds: { image: number; pixel: number };
  /** How the thresholds were calibrated (adaclip-edge calibrate), when they were. */
  calibration?: { at: string; images: number; rule: string; targetFpr: number; falseAlarmRate?: number };
  lastScore?: number;
  lastSeq?: number;
  anomalous?: boolean;
  fps?: number;
  dropped?: Record<string, number>;
}

export interface ServiceStatus {
  site: string;
  line: string;
  startedAt: string;
  model: { bundle: string; provenance: string; untrained: boolean; backend: string; hsf: string };
  mqtt: { connected: boolean; url: string; outboxDepth?: number };
  cameras: CameraStatus[];
}

export interface DashboardSource {
  status(): ServiceStatus;
  recentEvents(limit: number): unknown[];
  /** Called for each new event (already durable); returns an unsubscribe function. */
  onEvent(listener: (event: unknown) => void): () => void;
  /** External trigger over HTTP; false when the camera has no trigger source. */
  trigger(cameraId: string, partId?: string): boolean;
  /** Absolute path of a snapshot file by its name, or undefined when unknown or expired. */
  snapshotFile(name: string): string | undefined;
  metricsText(): Promise<string>;
  metricsContentType: string;
}
