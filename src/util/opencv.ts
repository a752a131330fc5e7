// Loads @u4/opencv4nodejs once, with its build banner silenced (it prints on every require).
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import type * as CV from '@u4/opencv4nodejs';

const require = createRequire(import.meta.url);
let cached: typeof CV | undefined;

export function loadOpenCV(): typeof CV {
  if (cached) return cached;
  try {
    require('@u4/opencv-build').Log.silence = true;
  } catch {
    // the build helper is optional at run time
  }
  const mod = require('@u4/opencv4nodejs') as typeof CV & { default?: typeof CV };
  cached = (mod.default ?? mod) as typeof CV;
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
    throw new Error(
      `${path}: not a readable ${what} (OpenCV: ${err instanceof Error ? err.message : String(err)})`,
    );
  }
  if (mat.empty) throw new Error(`${path}: not a readable ${what} (OpenCV decoded nothing)`);
  return mat;
}
