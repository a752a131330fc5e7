// Reviews: an operator labels an event or an inspection result as a false positive or a confirmed
// defect. The review is stored in the history with a copy of the document it judged, and the frame
// snapshot is copied into history.reviewsDir, so `review export` still finds both after the
// snapshot's own retention has deleted the original: reviews are the labelled data of this line.
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { SnapshotRef } from '../events/anomaly-event.js';
import type { InspectionResult } from '../events/inspection-result.js';
import type { HistoryStore } from '../history/history-store.js';
import type { Review, ReviewLabel, ReviewTarget } from '../history/types.js';
import { actorOf, allowAll, OperatorError, type ActionOrigin, type Authorise } from './types.js';

export interface ReviewOutcome {
  review: Review;
  /** File name of the frame copy in reviewsDir; absent when the snapshot was gone or never made. */
  image?: string;
}

/** The file a review's frame copy gets (only such names are ever written to reviewsDir). */
export function reviewImageName(kind: ReviewTarget, id: string): string {
  return `${kind}-${id}-frame.jpg`;
}

export class Reviews {
  constructor(
    private readonly deps: {
      history?: HistoryStore;
      /** snapshots.dir: snapshot references are relative to it. */
      snapshotDir: string;
      reviewsDir: string;
      authorise?: Authorise;
      reviewed?: (kind: ReviewTarget, label: ReviewLabel) => void;
      now?: () => number;
      warn?: (obj: object, msg: string) => void;
    },
  ) {}

  async review(
    kind: ReviewTarget,
    id: string,
    label: ReviewLabel,
    origin: ActionOrigin,
    comment?: string,
  ): Promise<ReviewOutcome> {
    const { history } = this.deps;
    if (!history)
      throw new OperatorError(503, 'history: disabled (history.enabled is false), nothing to review');
    const row = kind === 'event' ? history.event(id) : history.result(id);
    if (!row) throw new OperatorError(404, `no ${kind} ${JSON.stringify(id)}`);
    (this.deps.authorise ?? allowAll)('review', row.cameraId, origin);
    if (kind === 'result' && (row as InspectionResult).verdict === 'error')
      throw new OperatorError(409, `result ${id} has verdict error: there is no inspected image to review`);
    // the document as published, without what operators added to the row
    const doc: Record<string, unknown> = { ...row };
    delete doc.review;
    delete doc.acknowledged;
    const image = await this.copyFrame(kind, id, row.snapshots);
    const review: Review = {
      kind,
      targetId: id,
      label,
      by: actorOf(origin),
      at: new Date((this.deps.now ?? Date.now)()).toISOString(),
      ...(comment !== undefined && comment.length > 0 && { comment }),
    };
    history.setReview({ ...review, cameraId: row.cameraId, image, target: JSON.stringify(doc) });
    this.deps.reviewed?.(kind, label);
    return { review, ...(image !== undefined && { image }) };
  }

  private async copyFrame(kind: ReviewTarget, id: string, refs: SnapshotRef[]): Promise<string | undefined> {
    const frame = refs.find((s) => s.kind === 'frame');
    if (!frame) return undefined;
    const name = reviewImageName(kind, id);
    try {
      await mkdir(this.deps.reviewsDir, { recursive: true });
      await copyFile(join(this.deps.snapshotDir, frame.path), join(this.deps.reviewsDir, name));
      return name;
    } catch (err) {
      this.deps.warn?.(
        { err: (err as Error).message, snapshot: frame.path },
        'review stored without its image: the frame snapshot is gone (snapshot retention) or unreadable',
      );
      return undefined;
    }
  }
}
