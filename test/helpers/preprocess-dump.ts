// Writes camera frames and the CPU path's tensors (src/preprocess, PIL-exact) for the native checks
// of the preprocessing kernels: native/node-tensorrt/test/native_cpu_test.cpp (the host build, also
// under qemu-aarch64) and scripts/gpu-check.sh (the kernel on a GPU). Per case folder: frame.npy
// (uint8 [H,W,C]), view.txt ("channels bgr rotate roiX roiY roiW roiH size mean[3] std[3]") and want.npy (float32
// [3,S,S]): fixture images (test/fixtures), and random frames of odd sizes and views.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLIP_MEAN, CLIP_STD } from '../../src/preprocess/normalize.js';
import { Preprocessor } from '../../src/preprocess/preprocess.js';
import type { Rect, Rotation } from '../../src/geometry/map-to-frame.js';
import { writeNpy } from '../../src/util/npy.js';
import { loadOpenCV } from '../../src/util/opencv.js';
import { FIXTURE } from './fixtures.js';

interface Case {
  name: string;
  mat: InstanceType<ReturnType<typeof loadOpenCV>['Mat']>;
  rotate: Rotation;
  roi?: Rect;
  size: number;
}

function cases(): Case[] {
  const cv = loadOpenCV();
  const out: Case[] = [];
  const mat = cv.imread(join(FIXTURE, 'images', 'pcb_pattern_512x384.png'));
  out.push({ name: 'fixture_pcb_518', mat, rotate: 0, size: 518 });
  out.push({
    name: 'fixture_pcb_r90_roi_224',
    mat,
    rotate: 90,
    roi: { x: 20, y: 31, width: 301, height: 403 },
    size: 224,
  });
  let s = 99;
  const next = () => (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  const noise = (w: number, h: number, grey: boolean) => {
    const buf = Buffer.alloc(w * h * (grey ? 1 : 3));
    for (let i = 0; i < buf.length; i++) buf[i] = next();
    return new cv.Mat(buf, h, w, grey ? cv.CV_8UC1 : cv.CV_8UC3);
  };
  out.push({
    name: 'noise_199x97_r270_61',
    mat: noise(199, 97, false),
    rotate: 270,
    roi: { x: 5, y: 17, width: 80, height: 151 },
    size: 61,
  });
  out.push({ name: 'noise_grey_33x250_r180_128', mat: noise(33, 250, true), rotate: 180, size: 128 });
  out.push({ name: 'noise_1x1_7', mat: noise(1, 1, false), rotate: 0, size: 7 });
  return out;
}

/** Writes one folder per case into outDir; returns the case names. */
export function writePreprocessDumps(outDir: string): string[] {
  const names: string[] = [];
  for (const c of cases()) {
    const dir = join(outDir, c.name);
    mkdirSync(dir, { recursive: true });
    const want = new Preprocessor({ size: c.size, mean: CLIP_MEAN, std: CLIP_STD }).frame(c.mat, {
      rotate: c.rotate,
      roi: c.roi,
    }).data;
    const bytes = c.mat.getData();
    writeNpy(join(dir, 'frame.npy'), new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), [
      c.mat.rows,
      c.mat.cols,
      c.mat.channels,
    ]);
    const roi = c.roi ?? { x: 0, y: 0, width: 0, height: 0 }; // 0x0: the whole upright frame
    writeFileSync(
      join(dir, 'view.txt'),
      `${c.mat.channels} 1 ${c.rotate} ${roi.x} ${roi.y} ${roi.width} ${roi.height} ${c.size} ${[...CLIP_MEAN, ...CLIP_STD].join(' ')}\n`,
    );
    writeNpy(join(dir, 'want.npy'), want, [3, c.size, c.size]);
    names.push(c.name);
  }
  return names;
}
