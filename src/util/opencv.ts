// Loads @u4/opencv4nodejs once, with its build banner silenced (it prints on every require).
import { createRequire } from 'node:module';
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
