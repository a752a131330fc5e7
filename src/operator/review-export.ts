// `review export`: the reviewed images of this line as an MVTec AD layout folder, the labelled data
// `calibrate --good` and `eval` read. Per class name (cameras may inspect different products):
//   OUT/<class>/test/good/<kind>-<id>.jpg          false positives: the part was good
//   OUT/<class>/test/defect/<kind>-<id>.jpg         confirmed defects
//   OUT/<class>/ground_truth/defect/<kind>-<id>_mask.png
// The masks are APPROXIMATE: the filled bounding boxes of the regions the model reported, not a
// person's outline of the defect (pixel metrics computed on them are an estimate; a confirmed
// defect with no region gets an empty mask). OUT/export.json lists every item and every review that
// was skipped, with the reason. Nothing is deleted; files of an earlier export are overwritten.
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Region } from '../geometry/region.js';
import type { HistoryStore } from '../history/history-store.js';
import type { ReviewLabel, ReviewTarget } from '../history/types.js';
import { loadOpenCV } from '../util/opencv.js';
import type { SnapshotRef } from '../events/anomaly-event.js';

export interface ExportedItem {
  kind: ReviewTarget;
  id: string;
  label: ReviewLabel;
  cameraId: string;
  className: string;
  /** Relative to the output folder. */
  image: string;
  mask?: string;
  regions: number;
  reviewedBy: string;
  reviewedAt: string;
  comment?: string;
}

export interface ExportReport {
  out: string;
  note: string;
  items: ExportedItem[];
  skipped: { kind: ReviewTarget; id: string; reason: string }[];
  /** Images per class and label. */
  counts: Record<string, { good: number; defect: number }>;
}

const MASK_NOTE =
  'masks are approximate: filled bounding boxes of the regions the model reported, not an outline drawn by a person';

/** A class name as a folder name: letters, digits, "-", "_" and "." kept, anything else "_". */
export function classFolder(className: string): string {
  const f = className
    .trim()
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^\.+/, '_');
  return f.length > 0 ? f.slice(0, 100) : 'unnamed';
}

export async function exportReviews(o: {
  history: Pick<HistoryStore, 'reviews'>;
  reviewsDir: string;
  snapshotDir: string;
  out: string;
}): Promise<ExportReport> {
  const cv = loadOpenCV();
  const report: ExportReport = { out: o.out, note: MASK_NOTE, items: [], skipped: [], counts: {} };
  for (const r of o.history.reviews()) {
    const doc = r.target as { className?: string; snapshots?: SnapshotRef[]; regions?: Region[] };
    const className = typeof doc.className === 'string' ? doc.className : 'unnamed';
    const source = imageOf(r.image, doc.snapshots, o);
    if (!source) {
      report.skipped.push({
        kind: r.kind,
        id: r.targetId,
        reason: 'no image: the review was stored without a frame copy and the snapshot is gone',
      });
      continue;
    }
    const cls = classFolder(className);
    const name = `${r.kind}-${r.targetId}`;
    const good = r.label === 'false-positive';
    const imageRel = join(cls, 'test', good ? 'good' : 'defect', `${name}.jpg`);
    await mkdir(join(o.out, cls, 'test', good ? 'good' : 'defect'), { recursive: true });
    await copyFile(source, join(o.out, imageRel));
    const regions = Array.isArray(doc.regions) ? doc.regions : [];
    const item: ExportedItem = {
      kind: r.kind,
      id: r.targetId,
      label: r.label,
      cameraId: r.cameraId,
      className,
      image: imageRel,
      regions: regions.length,
      reviewedBy: r.by,
      reviewedAt: r.at,
      ...(r.comment !== undefined && { comment: r.comment }),
    };
    if (!good) {
      const img = await cv.imreadAsync(source, cv.IMREAD_GRAYSCALE);
      if (img.empty) {
        report.skipped.push({ kind: r.kind, id: r.targetId, reason: `image ${source} is not readable` });
        continue;
      }
      const mask = new cv.Mat(img.rows, img.cols, cv.CV_8UC1, 0);
      for (const g of regions) {
        const x = clamp(g.x, 0, img.cols - 1);
        const y = clamp(g.y, 0, img.rows - 1);
        const w = clamp(g.width, 1, img.cols - x);
        const h = clamp(g.height, 1, img.rows - y);
        mask.drawRectangle(new cv.Rect(x, y, w, h), new cv.Vec3(255, 255, 255), -1, cv.LINE_8);
      }
      const maskRel = join(cls, 'ground_truth', 'defect', `${name}_mask.png`);
      await mkdir(join(o.out, cls, 'ground_truth', 'defect'), { recursive: true });
      await cv.imwriteAsync(join(o.out, maskRel), mask);
      item.mask = maskRel;
    }
    const c = (report.counts[cls] ??= { good: 0, defect: 0 });
    if (good) c.good++;
    else c.defect++;
    report.items.push(item);
  }
  await mkdir(o.out, { recursive: true });
  await writeFile(join(o.out, 'export.json'), JSON.stringify(report, null, 2) + '\n');
  return report;
}

/** The review's frame copy, else the frame snapshot if it still exists. */
function imageOf(
  image: string | undefined,
  snapshots: SnapshotRef[] | undefined,
  o: { reviewsDir: string; snapshotDir: string },
): string | undefined {
  if (image !== undefined && existsSync(join(o.reviewsDir, image))) return join(o.reviewsDir, image);
  const frame = snapshots?.find((s) => s.kind === 'frame');
  if (frame && existsSync(join(o.snapshotDir, frame.path))) return join(o.snapshotDir, frame.path);
  return undefined;
}

const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, Math.round(v)));
