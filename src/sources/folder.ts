// A folder of images as a frame source: the files matching a glob, in natural sort order (frame_2
// before frame_10), once or looping, paced by fps or as fast as the pipeline takes them.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import fg from 'fast-glob';
import { describeDecodeError, loadOpenCV } from '../util/opencv.js';
import type { Frame } from './frame.js';
import type { FrameSource } from './source.js';
import { Pacer } from './pacer.js';

export interface FolderSourceOptions {
  path: string;
  /** Glob relative to path, matched case-insensitively. */
  pattern: string;
  loop: boolean;
  fps?: number;
  /** Called for a file that cannot be decoded (it is skipped; the pipeline counts it). */
  onUnreadable?: (file: string, reason: string) => void;
}

const naturalOrder = new Intl.Collator('en', { numeric: true, sensitivity: 'variant' }).compare;

/** The files of a folder source, sorted; throws a clear error for a missing folder. */
export async function listFolder(path: string, pattern: string): Promise<string[]> {
  if (!existsSync(path)) throw new Error(`image folder ${path} does not exist`);
  if (!statSync(path).isDirectory()) throw new Error(`image folder ${path} is not a folder`);
  const files = await fg(pattern, { cwd: path, caseSensitiveMatch: false, onlyFiles: true, dot: false });
  return files.sort(naturalOrder).map((f) => resolve(path, f));
}

export class FolderSource implements FrameSource {
  readonly realtime: boolean;
  readonly live = false;
  private files: string[] = [];
  private next = 0;
  /** Frames produced in the current pass: a loop over only unreadable files must not spin. */
  private producedThisPass = 0;
  private readonly pacer: Pacer | undefined;
  private readonly abort = new AbortController();

  constructor(private readonly o: FolderSourceOptions) {
    this.realtime = o.fps !== undefined;
    this.pacer = o.fps !== undefined ? new Pacer(o.fps) : undefined;
  }

  async open(): Promise<void> {
    this.files = await listFolder(this.o.path, this.o.pattern);
    if (this.files.length === 0) throw new Error(`no file in ${this.o.path} matches "${this.o.pattern}"`);
    this.next = 0;
    this.producedThisPass = 0;
  }

  async read(): Promise<Frame | null> {
    const cv = loadOpenCV();
    while (!this.abort.signal.aborted) {
      if (this.next >= this.files.length) {
        if (!this.o.loop) return null;
        if (this.producedThisPass === 0) throw new Error(`no readable image in ${this.o.path}`);
        this.next = 0;
        this.producedThisPass = 0;
      }
      const file = this.files[this.next++];
      if (this.pacer && !(await this.pacer.wait(this.abort.signal))) return null;
      const capturedAtMono = performance.now();
      const capturedAtWall = Date.now();
      let image;
      try {
        image = await cv.imreadAsync(file, cv.IMREAD_COLOR);
      } catch (err) {
        this.o.onUnreadable?.(file, describeDecodeError(err));
        continue;
      }
      if (image.empty) {
        this.o.onUnreadable?.(file, 'not a decodable image');
        continue;
      }
      this.producedThisPass++;
      return {
        cameraId: '',
        seq: 0,
        capturedAtMono,
        capturedAtWall,
        image,
        originalSize: { width: image.cols, height: image.rows },
        sourcePath: file,
      };
    }
    return null;
  }

  async close(): Promise<void> {
    this.abort.abort();
  }
}
