// OpenCV VideoCapture as a frame source: a device index, a video file, an RTSP/HTTP URL or a
// GStreamer pipeline ending in appsink (see docs/cameras.md for Jetson CSI and GigE Vision).
import { existsSync, statSync } from 'node:fs';
import type { Mat, VideoCapture } from '@u4/opencv4nodejs';
import { loadOpenCV } from '../util/opencv.js';
import { redactSecrets } from '../util/redact.js';
import type { Frame } from './frame.js';
import type { FrameSource } from './source.js';
import { Pacer } from './pacer.js';
import { probeTcp, streamEndpoint } from './stream-probe.js';

export type CaptureApi = 'any' | 'gstreamer' | 'ffmpeg' | 'v4l2';

// OpenCV's cv::VideoCaptureAPIs and cv::VideoCaptureProperties values (stable across 4.x)
const API_IDS: Record<CaptureApi, number> = { any: 0, v4l2: 200, gstreamer: 1800, ffmpeg: 1900 };
const CAP_PROP_POS_FRAMES = 1;
const PROBE_TIMEOUT_MS = 3000;

/**
 * For network streams opened through FFmpeg: fail within 5 s instead of FFmpeg's default (which can
 * block for much longer), and use RTSP over TCP (no smeared frames from lost UDP packets). Applied
 * only when the user has not set OPENCV_FFMPEG_CAPTURE_OPTIONS themselves.
 */
const DEFAULT_FFMPEG_STREAM_OPTIONS = 'rtsp_transport;tcp|timeout;5000000';

export interface VideoCaptureSourceOptions {
  uri: string | number;
  api: CaptureApi;
  /** Cap the read rate (a file is otherwise read as fast as the pipeline takes frames). */
  fps?: number;
  /** A video file starts again at the end instead of ending. */
  loop?: boolean;
  /** How long the TCP check of a network source may take before the open fails (default 3000). */
  probeTimeoutMs?: number;
}

export type UriKind = 'device' | 'file' | 'stream' | 'gstreamer';

export function classifyUri(uri: string | number): UriKind {
  if (typeof uri === 'number') return 'device';
  if (/^\d+$/.test(uri)) return 'device';
  if (uri.includes('!')) return 'gstreamer';
  if (/^file:\/\//i.test(uri)) return 'file';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) return 'stream';
  return 'file';
}

export class VideoCaptureSource implements FrameSource {
  readonly realtime: boolean;
  readonly live: boolean;
  readonly uriKind: UriKind;
  private cap: VideoCapture | undefined;
  private pendingRead: Promise<unknown> | undefined;
  private readonly pacer: Pacer | undefined;
  private readonly abort = new AbortController();
  private closed = false;

  constructor(private readonly o: VideoCaptureSourceOptions) {
    this.uriKind = classifyUri(o.uri);
    this.live = this.uriKind !== 'file';
    // a file without fps comes as fast as it is read: the pipeline pauses it instead of dropping
    this.realtime = this.live || o.fps !== undefined;
    this.pacer = o.fps !== undefined ? new Pacer(o.fps) : undefined;
  }

  private get path(): string {
    const u = String(this.o.uri);
    return u.replace(/^file:\/\//i, '');
  }

  async open(): Promise<void> {
    const cv = loadOpenCV();
    if (this.uriKind === 'file') {
      if (!existsSync(this.path)) throw new Error(`video file ${this.path} does not exist`);
      if (!statSync(this.path).isFile()) throw new Error(`video source ${this.path} is not a file`);
    }
    if (
      this.uriKind === 'stream' &&
      this.o.api !== 'gstreamer' &&
      process.env.OPENCV_FFMPEG_CAPTURE_OPTIONS === undefined
    )
      process.env.OPENCV_FFMPEG_CAPTURE_OPTIONS = DEFAULT_FFMPEG_STREAM_OPTIONS;
    const target =
      this.uriKind === 'device'
        ? Number(this.o.uri)
        : this.uriKind === 'file'
          ? this.path
          : String(this.o.uri);
    await this.probe();
    if (this.closed) return;
    let cap: VideoCapture;
    try {
      // Note: the binding opens synchronously; probe() and FFmpeg's timeout bound the wait
      cap = new cv.VideoCapture(target as never, API_IDS[this.o.api]);
    } catch (err) {
      throw new Error(
        `cannot open video source ${describe(this.o.uri)} (api ${this.o.api}): ${String((err as Error)?.message ?? err)}`,
      );
    }
    if (this.closed) {
      cap.release();
      return;
    }
    this.cap = cap;
  }

  /** Fails fast, without blocking, when a network source's host does not accept TCP (stream-probe.ts). */
  private async probe(): Promise<void> {
    if (this.uriKind !== 'stream' && this.uriKind !== 'gstreamer') return;
    const endpoint = streamEndpoint(String(this.o.uri));
    if (!endpoint) return;
    try {
      await probeTcp(endpoint.host, endpoint.port, this.o.probeTimeoutMs ?? PROBE_TIMEOUT_MS);
    } catch (err) {
      throw new Error(`cannot open video source ${describe(this.o.uri)}: ${(err as Error).message}`);
    }
  }

  async read(): Promise<Frame | null> {
    const cap = this.cap;
    if (!cap) {
      if (this.closed) return null;
      throw new Error('video source read before open()');
    }
    if (this.pacer && !(await this.pacer.wait(this.abort.signal))) return null;
    let mat = await this.readMat(cap);
    if (mat === undefined) return null; // closed meanwhile
    if (mat.empty && this.uriKind === 'file' && this.o.loop) {
      cap.set(CAP_PROP_POS_FRAMES, 0);
      mat = await this.readMat(cap);
      if (mat === undefined) return null;
      if (mat.empty) throw new Error(`video file ${this.path} has no readable frame`);
    }
    if (mat.empty) {
      // a file ends; for a camera or stream this means the connection died (the supervisor reopens)
      if (this.uriKind === 'file') return null;
      throw new Error(`${describe(this.o.uri)} returned no frame`);
    }
    return {
      cameraId: '',
      seq: 0,
      capturedAtMono: performance.now(),
      capturedAtWall: Date.now(),
      image: mat,
      originalSize: { width: mat.cols, height: mat.rows },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    const cap = this.cap;
    this.cap = undefined;
    if (!cap) return;
    // releasing while a read runs on the thread pool would free memory under it: wait for the read
    const pending = this.pendingRead;
    if (pending) {
      const release = () => cap.release();
      void pending.then(release, release);
    } else cap.release();
  }

  private async readMat(cap: VideoCapture): Promise<Mat | undefined> {
    const p = cap.readAsync();
    this.pendingRead = p;
    try {
      const mat = await p;
      if (this.closed) {
        mat.release();
        return undefined;
      }
      return mat;
    } finally {
      this.pendingRead = undefined;
    }
  }
}

function describe(uri: string | number): string {
  if (typeof uri === 'number') return `camera device ${uri}`;
  // never log credentials embedded in a stream URL or a pipeline
  return redactSecrets(uri);
}
