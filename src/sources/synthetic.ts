// The synthetic production line as a frame source: deterministic frames (by seed and frame number)
// paced at fps, each with the mask of its injected defects. Used by the demo and the tests.
import type { Frame } from './frame.js';
import type { FrameSource } from './source.js';
import { Pacer } from './pacer.js';
import { SyntheticRenderer } from './synthetic/render.js';
import type { PartKind } from './synthetic/scene.js';

export interface SyntheticSourceOptions {
  width: number;
  height: number;
  fps: number;
  defectRate: number;
  seed: number;
  /** Stop after this many frames (default: endless). */
  frames?: number;
  /** Render as fast as read instead of at fps (offline runs, benchmarks of the pipeline itself). */
  unpaced?: boolean;
  /** Part kinds on the line (default: all). */
  kinds?: readonly PartKind[];
  /** Part size as a share of the frame's shorter side (default 0.32). */
  partScale?: number;
}

export class SyntheticSource implements FrameSource {
  readonly realtime: boolean;
  readonly live = false;
  private renderer: SyntheticRenderer | undefined;
  private readonly pacer: Pacer;
  private index = 0;
  private readonly abort = new AbortController();

  constructor(private readonly o: SyntheticSourceOptions) {
    if (!Number.isInteger(o.width) || !Number.isInteger(o.height) || o.width < 64 || o.height < 64)
      throw new Error(`synthetic source needs integer width and height >= 64, got ${o.width}x${o.height}`);
    if (!(o.defectRate >= 0 && o.defectRate <= 1))
      throw new Error(`synthetic defectRate must be in [0, 1], got ${o.defectRate}`);
    this.pacer = new Pacer(o.fps);
    this.realtime = !o.unpaced;
  }

  async open(): Promise<void> {
    this.renderer ??= new SyntheticRenderer(this.o);
  }

  async read(): Promise<Frame | null> {
    if (!this.renderer) throw new Error('synthetic source read before open()');
    if (this.o.frames !== undefined && this.index >= this.o.frames) return null;
    if (!this.o.unpaced && !(await this.pacer.wait(this.abort.signal))) return null;
    const capturedAtMono = performance.now();
    const capturedAtWall = Date.now();
    const frameIndex = this.index++;
    const r = this.renderer.render(frameIndex);
    return {
      cameraId: '',
      seq: frameIndex,
      capturedAtMono,
      capturedAtWall,
      image: r.image,
      originalSize: { width: this.o.width, height: this.o.height },
      truthMask: r.truthMask,
      truthDefects: r.defects,
    };
  }

  async close(): Promise<void> {
    this.abort.abort();
  }
}
