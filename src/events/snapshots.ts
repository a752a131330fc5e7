// Snapshots for events: a JPEG of the frame and one of the heatmap overlay, written under
// snapshots.dir/<cameraId>/ and kept within the retention limits (count, bytes, age; oldest first).
// Retention only ever deletes files this store writes: `<ULID>-frame.jpg` or `<ULID>-overlay.jpg`
// in a camera's folder (SNAPSHOT_FILE); anything else someone put in the folder is left alone.
// Events carry references to them (SnapshotRef); the bytes go out on the snapshot topic, never inside
// the event or a SCADA payload.
import { mkdir, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Mat } from '@u4/opencv4nodejs';
import {
  mapRectToFrame,
  validateMapSource,
  type MapSource,
  type Rotation,
} from '../geometry/map-to-frame.js';
import type { Region } from '../geometry/region.js';
import { validateMap } from '../postprocess/regions.js';
import type { Logger } from '../util/log.js';
import { loadOpenCV } from '../util/opencv.js';
import type { SnapshotRef } from './anomaly-event.js';
import { ULID_PATTERN } from './ids.js';

export interface SnapshotConfig {
  dir: string;
  maxCount: number;
  maxBytes: number;
  maxAgeH: number;
  jpegQuality: number;
}

export interface SnapshotInput {
  eventId: string;
  cameraId: string;
  /** The captured frame, BGR uint8 (Frame.image). */
  frame: Mat;
  /** Smoothed map and where it came from; without them only the frame snapshot is written. */
  mapSmoothed?: Float32Array;
  mapSize?: number;
  source?: MapSource;
  /** Boxes drawn on the overlay (frame pixels). */
  regions?: Region[];
  /** Topic the bytes will be published on, recorded in the reference. */
  topic?: string;
}

export interface SavedSnapshot {
  ref: SnapshotRef;
  jpeg: Buffer;
}

interface Entry {
  path: string;
  bytes: number;
  mtimeMs: number;
}

export class SnapshotError extends Error {
  override name = 'SnapshotError';
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
/** The names the service gives snapshot files: the event's (or result's) ULID and the kind. */
export const SNAPSHOT_FILE = new RegExp(`${ULID_PATTERN.slice(0, -1)}-(frame|overlay)\\.jpg$`);
/** Weight of the heatmap in the overlay blend. */
const HEAT_ALPHA = 0.45;

export class SnapshotStore {
  private entries: Entry[] = [];
  private totalBytes = 0;
  private ready?: Promise<void>;
  private deleted = 0;

  constructor(
    private readonly cfg: SnapshotConfig,
    private readonly logger?: Logger,
    private readonly now: () => number = Date.now,
  ) {
    if (!(cfg.jpegQuality >= 1 && cfg.jpegQuality <= 100))
      throw new SnapshotError(`jpegQuality must be 1-100, got ${cfg.jpegQuality}`);
  }

  /** Creates the folder and indexes what earlier runs left there (so retention covers them too). */
  init(): Promise<void> {
    this.ready ??= this.scan();
    return this.ready;
  }

  get stats(): { count: number; bytes: number; deleted: number } {
    return { count: this.entries.length, bytes: this.totalBytes, deleted: this.deleted };
  }

  /** Writes the frame JPEG and (with a map) the overlay JPEG, then applies retention. */
  async save(input: SnapshotInput): Promise<SavedSnapshot[]> {
    await this.init();
    for (const [what, v] of [
      ['eventId', input.eventId],
      ['cameraId', input.cameraId],
    ] as const)
      if (!SAFE_NAME.test(v)) throw new SnapshotError(`${what} "${v}" is not safe as a file name`);
    const cv = loadOpenCV();
    const frame = input.frame;
    if (frame.empty || frame.type !== cv.CV_8UC3)
      throw new SnapshotError(
        `snapshot frame must be a non-empty BGR uint8 image, got type ${frame.type} ${frame.cols}x${frame.rows}`,
      );
    const images: { kind: SnapshotRef['kind']; mat: Mat }[] = [{ kind: 'frame', mat: frame }];
    if (input.mapSmoothed && input.mapSize && input.source) {
      images.push({
        kind: 'overlay',
        mat: renderOverlay(frame, input.mapSmoothed, input.mapSize, input.source, input.regions ?? []),
      });
    }
    const camDir = join(this.cfg.dir, input.cameraId);
    await mkdir(camDir, { recursive: true });
    const saved: SavedSnapshot[] = [];
    for (const img of images) {
      const id = `${input.eventId}-${img.kind}`;
      const jpeg = await cv.imencodeAsync('.jpg', img.mat, [cv.IMWRITE_JPEG_QUALITY, this.cfg.jpegQuality]);
      const file = join(camDir, `${id}.jpg`);
      // write then rename: a reader (dashboard) never sees half a file
      await writeFile(`${file}.tmp`, jpeg);
      await rename(`${file}.tmp`, file);
      this.add({ path: file, bytes: jpeg.length, mtimeMs: this.now() });
      const ref: SnapshotRef = {
        id,
        kind: img.kind,
        contentType: 'image/jpeg',
        path: relative(this.cfg.dir, file).split(sep).join('/'),
        bytes: jpeg.length,
        width: img.mat.cols,
        height: img.mat.rows,
      };
      if (input.topic) ref.topic = input.topic;
      saved.push({ ref, jpeg });
    }
    await this.prune(new Set(saved.map((s) => join(this.cfg.dir, s.ref.path))));
    return saved;
  }

  /** Deletes files past the age limit, then the oldest until count and bytes fit; `keep` is spared. */
  async prune(keep: Set<string> = new Set()): Promise<number> {
    const maxAgeMs = this.cfg.maxAgeH * 3_600_000;
    const now = this.now();
    const victims: Entry[] = [];
    const survivors: Entry[] = [];
    let count = this.entries.length;
    let bytes = this.totalBytes;
    for (const e of this.entries) {
      const tooOld = now - e.mtimeMs > maxAgeMs;
      const overLimits = count > this.cfg.maxCount || bytes > this.cfg.maxBytes;
      if (!keep.has(e.path) && (tooOld || overLimits)) {
        victims.push(e);
        count--;
        bytes -= e.bytes;
      } else survivors.push(e);
    }
    this.entries = survivors;
    this.totalBytes = bytes;
    for (const v of victims) {
      try {
        await unlink(v.path);
        this.deleted++;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
          this.logger?.warn({ err, path: v.path }, 'cannot delete snapshot');
      }
    }
    if (count > this.cfg.maxCount || bytes > this.cfg.maxBytes)
      this.logger?.warn({ count, bytes }, 'snapshots exceed the retention limits with only the newest kept');
    return victims.length;
  }

  private add(e: Entry): void {
    // entries stay oldest first: new files are the newest
    this.entries.push(e);
    this.totalBytes += e.bytes;
  }

  private async scan(): Promise<void> {
    await mkdir(this.cfg.dir, { recursive: true });
    const found: Entry[] = [];
    for (const d of await readdir(this.cfg.dir, { withFileTypes: true })) {
      if (!d.isDirectory() || !SAFE_NAME.test(d.name)) continue;
      const camDir = join(this.cfg.dir, d.name);
      for (const f of await readdir(camDir)) {
        if (!SNAPSHOT_FILE.test(f)) continue; // not ours: never indexed, never deleted
        const path = join(camDir, f);
        try {
          const s = await stat(path);
          found.push({ path, bytes: s.size, mtimeMs: s.mtimeMs });
        } catch {
          // deleted meanwhile
        }
      }
    }
    // oldest first; file names start with the ULID event id, which breaks mtime ties in time order
    found.sort((a, b) => a.mtimeMs - b.mtimeMs || (a.path < b.path ? -1 : 1));
    this.entries = [...found, ...this.entries];
    this.totalBytes = this.entries.reduce((s, e) => s + e.bytes, 0);
  }
}

/**
 * The frame with the anomaly map blended over the inspected area (JET colour map, red = anomalous)
 * and the region boxes drawn, in captured-frame orientation.
 */
export function renderOverlay(
  frame: Mat,
  map: Float32Array,
  mapSize: number,
  source: MapSource,
  regions: Region[] = [],
): Mat {
  validateMap(map, mapSize);
  validateMapSource(source);
  const cv = loadOpenCV();
  if (frame.cols !== source.width || frame.rows !== source.height)
    throw new SnapshotError(
      `frame is ${frame.cols}x${frame.rows} but the map source says ${source.width}x${source.height}`,
    );
  const u8 = Buffer.alloc(mapSize * mapSize);
  for (let i = 0; i < u8.length; i++) u8[i] = Math.round(Math.min(1, Math.max(0, map[i])) * 255);
  const roi = source.roi;
  let heat = cv.applyColorMap(
    new cv.Mat(u8, mapSize, mapSize, cv.CV_8UC1).resize(roi.height, roi.width, 0, 0, cv.INTER_LINEAR),
    cv.COLORMAP_JET,
  );
  const back = inverseRotation(source.rotate ?? 0);
  if (back !== undefined) heat = heat.rotate(back);
  // where the ROI lies in the captured frame
  const r = mapRectToFrame({ x: 0, y: 0, width: mapSize, height: mapSize }, mapSize, source);
  const rect = new cv.Rect(r.x, r.y, heat.cols, heat.rows);
  const out = frame.copy();
  const blended = frame.getRegion(rect).addWeighted(1 - HEAT_ALPHA, heat, HEAT_ALPHA, 0);
  blended.copyTo(out.getRegion(rect));
  for (const reg of regions)
    out.drawRectangle(
      new cv.Rect(reg.x, reg.y, reg.width, reg.height),
      new cv.Vec3(255, 255, 255),
      2,
      cv.LINE_8,
    );
  return out;
}

function inverseRotation(r: Rotation): number | undefined {
  const cv = loadOpenCV();
  if (r === 90) return cv.ROTATE_90_COUNTERCLOCKWISE;
  if (r === 180) return cv.ROTATE_180;
  if (r === 270) return cv.ROTATE_90_CLOCKWISE;
  return undefined;
}
