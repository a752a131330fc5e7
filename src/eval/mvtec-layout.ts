// The test split of an MVTec AD layout: ROOT/test/good/* are normal, ROOT/test/<defect>/* defective,
// each with ROOT/ground_truth/<defect>/<name>_mask.png. Everything wrong with a folder is listed at
// once, before any image is scored.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';

export const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff']);

export interface TestImage {
  file: string;
  /** "good" or the defect kind (its folder name). */
  defect: string;
  label: 0 | 1;
  /** The ground-truth mask of a defective image. */
  mask?: string;
}

export interface TestSet {
  root: string;
  images: TestImage[];
  /** Files skipped because their extension is not an image's. */
  ignored: string[];
}

export class LayoutError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'LayoutError';
  }
}

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

/** Image files of a folder, sorted by name; other files go to `ignored`. */
export function listImages(dir: string, ignored: string[] = []): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) continue;
    if (IMAGE_EXT.has(extname(name).toLowerCase())) out.push(p);
    else ignored.push(p);
  }
  return out;
}

/** `dir` is the class folder (holding test/ and ground_truth/) or its test/ folder. */
export function readTestSet(dir: string): TestSet {
  if (!isDir(dir)) throw new LayoutError([`${dir}: not a folder`]);
  const root = !isDir(join(dir, 'test')) && basename(dir) === 'test' ? dirname(dir) : dir;
  const test = join(root, 'test');
  const layout = `expected the MVTec AD layout: ${root}/test/good/*.png, ${root}/test/<defect>/*.png and ${root}/ground_truth/<defect>/<name>_mask.png`;
  if (!isDir(test)) throw new LayoutError([`${root}: no test/ folder (${layout})`]);
  const kinds = readdirSync(test)
    .filter((d) => isDir(join(test, d)))
    .sort();
  const problems: string[] = [];
  const ignored: string[] = [];
  const images: TestImage[] = [];
  if (!kinds.includes('good')) problems.push(`${test}: no good/ folder of normal images (${layout})`);
  if (kinds.filter((k) => k !== 'good').length === 0)
    problems.push(`${test}: no defect folder besides good/ (${layout})`);
  for (const kind of kinds) {
    const files = listImages(join(test, kind), ignored);
    if (files.length === 0) problems.push(`${join(test, kind)}: no images (${[...IMAGE_EXT].join(', ')})`);
    for (const file of files) {
      if (kind === 'good') {
        images.push({ file, defect: kind, label: 0 });
        continue;
      }
      const mask = join(root, 'ground_truth', kind, `${basename(file, extname(file))}_mask.png`);
      if (!existsSync(mask)) problems.push(`${file}: its ground-truth mask ${mask} does not exist`);
      images.push({ file, defect: kind, label: 1, mask });
    }
  }
  if (problems.length > 0) throw new LayoutError(problems);
  return { root, images, ignored };
}
