// Loads @u4/opencv4nodejs once, with its build banner silenced (it prints on every require), and
// with a bound on the pixels an image file may decode to: a 140 KB PNG can claim 12000 x 12000
// pixels and decode to 432 MB, and OpenCV's own bound (2^30 pixels, 3 GB) is more than an edge
// device has. OPENCV_IO_MAX_IMAGE_PIXELS, set before the first decode, overrides it.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import type * as CV from '@u4/opencv4nodejs';

const require = createRequire(import.meta.url);
let cached: typeof CV | undefined;

/** The binding's switches for its V8 external-memory allocator (missing from its typings). */
interface MemTracking {
  isCustomMatAllocatorEnabled?: () => boolean;
  dangerousDisableCustomMatAllocator?: () => boolean;
}

/** Whether OpenCV's Mats are reported to V8 as external memory (off: see loadOpenCV). */
export function openCVMemoryTracking(): boolean {
  return (loadOpenCV() as typeof CV & MemTracking).isCustomMatAllocatorEnabled?.() ?? false;
}

/** Image files larger than this many pixels are refused (134 million: 400 MB as 8-bit BGR). */
export const MAX_IMAGE_PIXELS = Number(process.env.OPENCV_IO_MAX_IMAGE_PIXELS ?? 2 ** 27);

export function loadOpenCV(): typeof CV {
  if (cached) return cached;
  // OpenCV reads it from the environment at its first image decode
  process.env.OPENCV_IO_MAX_IMAGE_PIXELS = String(MAX_IMAGE_PIXELS);
  try {
    require('@u4/opencv-build').Log.silence = true;
  } catch {
    // the build helper is optional at run time
  }
  // The binding's external-memory tracking allocator reports Mat memory to V8 from inside Mat
  // destructors, which run in GC weak callbacks: V8 then aborts the process ("Check failed:
  // marking_done_", SIGTRAP) during incremental marking. Seen in CI as a service dying mid-run;
  // reproduced in seconds with --stress-incremental-marking (test/unit/opencv-gc.test.ts). The
  // plain allocator frees the same memory; the pipeline releases each frame's Mat when it is done
  // with it (releaseFrame), so V8 not counting it does not hold frames back.
  process.env.OPENCV4NODEJS_DISABLE_EXTERNAL_MEM_TRACKING ??= '1';
  const mod = require('@u4/opencv4nodejs') as typeof CV & { default?: typeof CV };
  const cv = (mod.default ?? mod) as typeof CV & MemTracking;
  // loaded earlier by someone else with tracking on: switch it off before any Mat of ours exists
  if (cv.isCustomMatAllocatorEnabled?.()) cv.dangerousDisableCustomMatAllocator?.();
  cached = cv;
  return cached;
}

/**
 * cv.imread with errors that name the file and the reason: missing, or not decodable (the binding
 * throws plain strings as well as Errors, and returns an empty Mat for some files it cannot read).
 */
export function readImageFile(path: string, flags?: number, what = 'image'): CV.Mat {
  const cv = loadOpenCV();
  if (!existsSync(path)) throw new Error(`${path}: ${what} file not found`);
  let mat: CV.Mat;
  try {
    mat = cv.imread(path, flags ?? cv.IMREAD_COLOR);
  } catch (err) {
    throw new Error(`${path}: not a readable ${what} (${describeDecodeError(err)})`);
  }
  if (mat.empty) throw new Error(`${path}: not a readable ${what} (OpenCV decoded nothing)`);
  return mat;
}

/** Why OpenCV could not decode an image file, in words (its own messages name C++ internals). */
export function describeDecodeError(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  if (/CV_IO_MAX_IMAGE_PIXELS/.test(msg))
    return `larger than ${MAX_IMAGE_PIXELS} pixels, the most an image file may decode to (OPENCV_IO_MAX_IMAGE_PIXELS)`;
  if (/CV_IO_MAX_IMAGE_(WIDTH|HEIGHT)/.test(msg)) return 'wider or higher than OpenCV decodes (2^20 pixels)';
  return `OpenCV: ${msg}`;
}
