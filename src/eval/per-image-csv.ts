// The per-image CSV of an evaluation: one row per image, for a spreadsheet or pandas. RFC 4180
// quoting written here (a field with a comma, quote or line break is quoted, quotes doubled): a CSV
// library would be a dependency for these few lines.

export interface PerImageRow {
  file: string;
  defect: string;
  label: 0 | 1;
  score: number;
  scoreWithoutHsf: number;
  /** Highest value of the smoothed map. */
  mapMax: number;
  /** Defective pixels of the mask at the map's size. */
  defectPixels: number;
  regions: number;
  /** Saved map (.npy) and mask (.png) at the map's size, with --save-maps. */
  map?: string;
  mask?: string;
}

const COLUMNS = [
  'file',
  'defect',
  'label',
  'score',
  'score_without_hsf',
  'map_max',
  'defect_pixels',
  'regions',
  'predicted',
  'outcome',
  'map',
  'mask',
] as const;

function field(v: string | number | undefined): string {
  // numbers as the shortest text that reads back to the same double
  const s = v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** predicted = score >= threshold; outcome TP, FP, TN or FN. */
export function perImageCsv(rows: PerImageRow[], threshold: number): string {
  const lines = [COLUMNS.join(',')];
  for (const r of rows) {
    const predicted = r.score >= threshold ? 1 : 0;
    const outcome = predicted ? (r.label ? 'TP' : 'FP') : r.label ? 'FN' : 'TN';
    lines.push(
      [
        r.file,
        r.defect,
        r.label,
        r.score,
        r.scoreWithoutHsf,
        r.mapMax,
        r.defectPixels,
        r.regions,
        predicted,
        outcome,
        r.map,
        r.mask,
      ]
        .map(field)
        .join(','),
    );
  }
  return lines.join('\n') + '\n';
}
