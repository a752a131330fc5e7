// The evaluation metrics as scikit-learn and scipy compute them, for comparing ours against. The
// image metrics are sklearn's own functions (F1-max over precision_recall_curve, as the official
// AdaCLIP tools/metrics.py takes it). The AUPRO reference is the MVTec AD / anomalib definition
// written plainly: regions from scipy.ndimage.label (8-connected), the global FPR from
// sklearn.metrics.roc_curve over every distinct threshold, each region's overlap by searchsorted on
// its own sorted scores, the mean over regions, then the trapezoid up to FPR 0.3 (the PRO value at
// 0.3 interpolated linearly) divided by 0.3.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPython } from './python-ref.js';

export interface ReferenceImage {
  score: number;
  label: 0 | 1;
  /** float32 .npy [S,S]: the smoothed map. */
  map: string;
  /** .npy (uint8) or .png: non-zero = defective; absent = all normal. */
  mask?: string;
}

export interface ReferenceMetrics {
  imageAuroc: number;
  imageAp: number;
  imageF1Max: number;
  pixelAuroc: number;
  pixelAp: number;
  pixelF1Max: number;
  pixelAupro: number;
  regions: number;
}

const CODE = String.raw`
import json, sys
import numpy as np
from PIL import Image
from scipy import ndimage
from sklearn.metrics import roc_auc_score, average_precision_score, precision_recall_curve, roc_curve

items = json.load(open(sys.argv[1]))
LIMIT = 0.3

def f1_max(y, s):
    p, r, _ = precision_recall_curve(y, s)
    f = 2 * p * r / (p + r)
    return float(np.max(f[np.isfinite(f)]))

def load_mask(it, shape):
    if not it.get('mask'):
        return np.zeros(shape, dtype=bool)
    if it['mask'].endswith('.npy'):
        return np.load(it['mask']) > 0
    return np.array(Image.open(it['mask']).convert('L')) > 0

maps = [np.load(it['map']) for it in items]
masks = [load_mask(it, m.shape) for it, m in zip(items, maps)]
scores = np.array([it['score'] for it in items], dtype=np.float64)
labels = np.array([it['label'] for it in items])

y = np.concatenate([m.ravel() for m in masks]).astype(np.uint8)
s = np.concatenate([a.ravel() for a in maps])

fpr, _, thr = roc_curve(y, s, drop_intermediate=False)
eight = np.ones((3, 3), dtype=int)
pro = np.zeros(len(thr))
regions = 0
for m, a in zip(masks, maps):
    lab, n = ndimage.label(m, structure=eight)
    for r in range(1, n + 1):
        rs = np.sort(a[lab == r])
        pro += (len(rs) - np.searchsorted(rs, thr, side='left')) / len(rs)
        regions += 1
pro /= regions
k = int(np.argmax(fpr > LIMIT))  # first point past the limit (fpr ends at 1)
x = np.append(fpr[:k], LIMIT)
at = pro[k - 1] + (pro[k] - pro[k - 1]) * (LIMIT - fpr[k - 1]) / (fpr[k] - fpr[k - 1])
yv = np.append(pro[:k], at)
aupro = float(np.trapz(yv, x) / LIMIT)

print(json.dumps({
    'imageAuroc': float(roc_auc_score(labels, scores)),
    'imageAp': float(average_precision_score(labels, scores)),
    'imageF1Max': f1_max(labels, scores),
    'pixelAuroc': float(roc_auc_score(y, s)),
    'pixelAp': float(average_precision_score(y, s)),
    'pixelF1Max': f1_max(y, s),
    'pixelAupro': aupro,
    'regions': regions,
}))
`;

/** Runs the reference on the listed images (their files must exist); `dir` holds the item list. */
export function referenceMetrics(items: ReferenceImage[], dir: string): ReferenceMetrics {
  const list = join(dir, 'reference-items.json');
  writeFileSync(list, JSON.stringify(items));
  return JSON.parse(runPython(CODE, [list], 600_000)) as ReferenceMetrics;
}
