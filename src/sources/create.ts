// Builds a camera's frame source from its config: the source itself, wrapped in a supervisor that
// reopens it on failure and reports its state; for trigger cameras, the trigger around it.
import type { DropReason } from '../admit/drop-reasons.js';
import type { CameraConfig, SourceConfig } from '../config/schema.js';
import type { FrameSource, SourceState, SourceStateEvent } from './source.js';
import { SupervisedSource } from './supervisor.js';
import { SyntheticSource } from './synthetic.js';
import { FolderSource } from './folder.js';
import { VideoCaptureSource } from './videocapture.js';
import { TriggerSource, type TriggerRef } from './trigger.js';

/** A camera's source as the pipeline sees it. */
export interface CameraSource {
  readonly source: FrameSource;
  readonly state: SourceState;
  onState(listener: (e: SourceStateEvent) => void): () => void;
  /**
   * Things lost before they became frames: unreadable files, rejected triggers, and accepted
   * triggers that got no frame (timed out, or the source closed first: these name the trigger).
   */
  onDropped?(listener: (reason: DropReason, detail?: string, trigger?: TriggerRef) => void): void;
  /** Present for trigger cameras: capture the next frame for this part; returns the trigger id. */
  trigger?(partId?: string): string;
}

export interface CreateSourceOptions {
  log?: { warn(obj: object, msg?: string): void };
  /** Injected for tests (backoff jitter). */
  random?: () => number;
}

type InnerConfig = Exclude<SourceConfig, { kind: 'trigger' }>;

export function createCameraSource(camera: CameraConfig, o: CreateSourceOptions = {}): CameraSource {
  const dropListeners = new Set<(reason: DropReason, detail?: string, trigger?: TriggerRef) => void>();
  const dropped = (reason: DropReason, detail?: string, trigger?: TriggerRef) => {
    for (const l of dropListeners) l(reason, detail, trigger);
  };
  const cfg = camera.source;
  const inner = cfg.kind === 'trigger' ? cfg.inner : cfg;
  const supervised = new SupervisedSource(() => makeSource(inner, camera.id, dropped), {
    cameraId: camera.id,
    stallTimeoutMs: inner.kind === 'videocapture' ? inner.stallTimeoutMs : undefined,
    reconnect: inner.kind === 'videocapture' ? inner.reconnect : undefined,
    random: o.random,
    // a trigger camera is read only when a part arrives: open it now so its state is true from the start
    openEagerly: cfg.kind === 'trigger',
    onError: (err, context) =>
      o.log?.warn({ camera: camera.id, err }, `camera ${camera.id}: ${context}: ${err.message}`),
  });
  const trig =
    cfg.kind === 'trigger'
      ? new TriggerSource(supervised, {
          maxPending: cfg.maxPending,
          captureTimeoutMs: cfg.captureTimeoutMs,
          innerState: () => supervised.state,
          onRejected: (partId, reason) =>
            dropped('trigger-rejected', `${partId ?? '(no part id)'}: ${reason}`),
          onUnanswered: (trigger, reason, detail) => dropped(reason, detail, trigger),
        })
      : undefined;
  return {
    source: trig ?? supervised,
    get state() {
      return supervised.state;
    },
    onState: (l) => supervised.onState(l),
    onDropped: (l) => void dropListeners.add(l),
    trigger: trig ? (partId) => trig.trigger(partId) : undefined,
  };
}

export function makeSource(
  cfg: InnerConfig,
  cameraId: string,
  dropped: (reason: DropReason, detail?: string) => void = () => undefined,
): FrameSource {
  switch (cfg.kind) {
    case 'synthetic':
      return new SyntheticSource(cfg);
    case 'folder':
      return new FolderSource({
        ...cfg,
        onUnreadable: (file, reason) => dropped('unreadable-input', `${file}: ${reason}`),
      });
    case 'videocapture':
      return new VideoCaptureSource(cfg);
    default: {
      const kind = (cfg as { kind: string }).kind;
      throw new Error(`camera ${cameraId}: unknown source kind "${kind}"`);
    }
  }
}
