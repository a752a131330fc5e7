// `adaclip-edge review export --config FILE --out DIR`: the reviewed events and results of the
// service's history as an MVTec AD layout folder (src/operator/review-export.ts), for `calibrate
// --good DIR/<class>/test/good` and `eval`. Reads the history the service writes (history.path);
// may run while the service runs (SQLite WAL readers do not block it).
import { existsSync } from 'node:fs';
import { HistoryStore } from '../history/history-store.js';
import { exportReviews } from '../operator/review-export.js';
import { loadCommandConfig } from './load-config.js';

export async function reviewExportCommand(opts: { config: string; out: string }): Promise<number> {
  const cfg = loadCommandConfig(opts.config);
  if (!cfg) return 2;
  if (!existsSync(cfg.history.path)) {
    console.error(
      `review export: no history at ${cfg.history.path} (history.path in ${opts.config}): the service has not written one`,
    );
    return 2;
  }
  const history = new HistoryStore({
    path: cfg.history.path,
    maxAgeH: cfg.history.maxAgeH,
    maxRows: cfg.history.maxRows,
  });
  try {
    history.open();
  } catch (err) {
    console.error(`review export: ${(err as Error).message}`);
    return 2;
  }
  try {
    const report = await exportReviews({
      history,
      reviewsDir: cfg.history.reviewsDir,
      snapshotDir: cfg.snapshots.dir,
      out: opts.out,
    });
    for (const [cls, c] of Object.entries(report.counts))
      console.log(
        `${cls}: ${c.good} good (false positives), ${c.defect} defect (confirmed) -> ${opts.out}/${cls}`,
      );
    for (const s of report.skipped) console.error(`skipped ${s.kind} ${s.id}: ${s.reason}`);
    console.log(`${report.items.length} images exported, ${report.skipped.length} skipped; ${report.note}`);
    console.log(`list: ${opts.out}/export.json`);
    return 0;
  } finally {
    history.close();
  }
}
