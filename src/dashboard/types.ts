/** What the dashboard shows and can do; the service implements it (src/service/dashboard-api.ts). */
import type { ApiDeps } from './routes/deps.js';

export type CameraViewState = 'online' | 'stalled' | 'reconnecting' | 'offline' | 'suspended';

/** A camera as the dashboard shows it (CameraView of the HTTP API contract). */
export interface CameraStatus {
  id: string;
  className: string;
  /** "suspended" while an operator has suspended it, else its source's state. */
  state: CameraViewState | string;
  /** ISO time the suspension ends; absent while not suspended or suspended until resumed. */
  suspendedUntil?: string;
  /** Who suspended it, when and why, while suspended. */
  suspension?: { since: string; by: string; comment?: string };
  /** The camera captures on an external trigger (a trigger button is offered). */
  triggerable: boolean;
  thresholds: { image: number; pixel: number; clear: number };
  /** How the thresholds were calibrated (adaclip-edge calibrate), when they were. */
  calibration?: { at: string; images: number; rule: string; targetFpr: number; falseAlarmRate?: number };
  lastScore?: number;
  lastSeq?: number;
  /** Capture time (ISO) of the last inspected frame. */
  lastFrameAt?: string;
  anomalous?: boolean;
  /** Inspected frames per second over the last 10 s (0 once frames stop coming). */
  fps?: number;
  /** Frames dropped so far, by reason (only reasons that happened). */
  dropped?: Record<string, number>;
  alarm: {
    active: boolean;
    eventId?: string;
    since?: string;
    acknowledged?: { by: string; at: string; comment?: string };
  };
}

export interface ServiceStatus {
  site: string;
  line: string;
  startedAt: string;
  model: {
    bundle: string;
    provenance: string;
    untrained: boolean;
    /** A demo model trained on the synthetic line only (synthetic-trained): its note, for the banner. */
    demoNote?: string;
    backend: string;
    hsf: string;
    /** sha256 of the bundle's model.onnx and its manifest version (as in every event). */
    sha256?: string;
    version?: string;
    architecture?: string;
    /** The AdaCLIP checkpoint file the bundle was exported from, when it names one. */
    checkpoint?: string;
    /** The last bundle refused at run time (reload, load-bundle), while the old one kept running. */
    lastRefused?: { bundle: string; at: string; error: string };
  };
  mqtt: { connected: boolean; url: string; outboxDepth?: number };
  cameras: CameraStatus[];
}

export type TriggerOutcome = { triggerId: string } | { refused: string };

export interface DashboardSource {
  status(): ServiceStatus;
  /** External trigger over HTTP: the trigger id, or why it was refused (not a trigger camera, suspended, ...). */
  trigger(cameraId: string, partId?: string): TriggerOutcome;
  /** Absolute path of a snapshot file by its name, or undefined when unknown or expired. */
  snapshotFile(name: string): string | undefined;
  metricsText(): Promise<string>;
  metricsContentType: string;
  /** The JSON API of src/dashboard/routes/: history, operator actions, live frames, probes, stream. */
  api: ApiDeps;
}
