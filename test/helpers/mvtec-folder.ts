// Writes a small MVTec AD layout with OpenCV for the eval and calibrate tests: a grey part on a
// darker background, defects drawn as bright scratches and dark spots, each mask drawn from the same
// geometry (255 on the defect).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Mat } from '@u4/opencv4nodejs';
import { loadOpenCV } from '../../src/util/opencv.js';

export interface MvtecFolderSpec {
  good: number;
  /** defect kind -> images */
  defects: Record<string, number>;
  /** also write train/good with this many images */
  train?: number;
  width?: number;
  height?: number;
  seed?: number;
}

export function writeMvtecFolder(root: string, spec: MvtecFolderSpec): void {
  const cv = loadOpenCV();
  const W = spec.width ?? 160;
  const H = spec.height ?? 120;
  let s = spec.seed ?? 1;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const part = () => {
    const img = new cv.Mat(H, W, cv.CV_8UC3, [40, 40, 40]);
    const shade = 120 + Math.floor(rnd() * 40);
    img.drawCircle(
      new cv.Point2(W / 2 + Math.floor(rnd() * 10 - 5), H / 2 + Math.floor(rnd() * 10 - 5)),
      Math.floor(Math.min(W, H) * 0.35),
      new cv.Vec3(shade, shade, shade),
      -1,
    );
    return img;
  };
  const write = (dir: string, n: number, draw?: (img: Mat, mask: Mat) => void, maskDir?: string) => {
    mkdirSync(dir, { recursive: true });
    if (maskDir) mkdirSync(maskDir, { recursive: true });
    for (let i = 0; i < n; i++) {
      const img = part();
      const name = String(i).padStart(3, '0');
      if (draw && maskDir) {
        const mask = new cv.Mat(H, W, cv.CV_8UC1, 0);
        draw(img, mask);
        cv.imwrite(join(maskDir, `${name}_mask.png`), mask);
      }
      cv.imwrite(join(dir, `${name}.png`), img);
    }
  };
  if (spec.train) write(join(root, 'train', 'good'), spec.train);
  write(join(root, 'test', 'good'), spec.good);
  for (const [kind, n] of Object.entries(spec.defects)) {
    write(
      join(root, 'test', kind),
      n,
      (img, mask) => {
        const x = W * 0.3 + rnd() * W * 0.3;
        const y = H * 0.3 + rnd() * H * 0.3;
        if (kind.includes('scratch')) {
          const a = new cv.Point2(x, y);
          const b = new cv.Point2(x + W * 0.2, y + H * 0.15);
          img.drawLine(a, b, new cv.Vec3(250, 250, 250), 3);
          mask.drawLine(a, b, new cv.Vec3(255, 255, 255), 3);
        } else {
          const r = 4 + Math.floor(rnd() * 6);
          img.drawCircle(new cv.Point2(x, y), r, new cv.Vec3(10, 10, 10), -1);
          mask.drawCircle(new cv.Point2(x, y), r, new cv.Vec3(255, 255, 255), -1);
        }
      },
      join(root, 'ground_truth', kind),
    );
  }
}
