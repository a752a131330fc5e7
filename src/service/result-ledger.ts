// Every trigger of a trigger camera gets exactly one inspection result, and a camera's results
// become durable in the order of its triggers. The ledger is told of each trigger when it arrives
// (register), then of its outcome: the verdict on its frame (complete), or why it could not be
// inspected (fail: refused, no frame in time, a frame that failed preprocessing or the engine,
// suspended, shutdown). A trigger with no outcome within the camera's resultTimeoutMs is answered
// with verdict error, reason result-timeout, so a stuck part never means silence; an outcome that
// arrives after that is logged and dropped (the PLC has been answered).
//
// Outcomes usually arrive in trigger order already (the trigger source hands out frames first in,
// first out, and the pipeline finishes a camera's frames in capture order); the queue makes it so
// when they do not (a frame of a later trigger failing preprocessing while an earlier one is in the
// engine). Results are handed to `persist` in order, which is the outbox's order.
import type { InspectionResult, PartRef, ResultErrorReason } from '../events/inspection-result.js';
import type { Logger } from '../util/log.js';

interface Entry {
  part: PartRef;
  doc?: InspectionResult;
  timer?: NodeJS.Timeout;
  durable: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** Remembered answered trigger ids, to recognise a late outcome (bounded: oldest forgotten first). */
const ANSWERED_MEMORY = 10_000;

export interface ResultLedgerDeps {
  /** Makes a result durable (the MQTT outbox); must take results in call order. */
  persist: (r: InspectionResult) => Promise<unknown>;
  /** Called once a result is durable (bus, history, metrics). */
  durable: (r: InspectionResult) => void;
  /** A verdict error for a trigger (errorResult with the camera's class name). */
  errorDoc: (part: PartRef, reason: ResultErrorReason, detail: string) => InspectionResult;
  resultTimeoutMs: (cameraId: string) => number;
  /** An outcome for a trigger answered before (by the result timeout). */
  late?: (part: PartRef) => void;
  logger: Logger;
}

export class ResultLedger {
  /** Per camera, unanswered and answered-but-not-yet-persisted triggers, in trigger order. */
  private readonly queues = new Map<string, Entry[]>();
  /** Triggers still waiting for their outcome, by trigger id. */
  private readonly open = new Map<string, Entry>();
  private readonly answered = new Set<string>();
  private readonly persisting = new Set<Promise<unknown>>();

  constructor(private readonly deps: ResultLedgerDeps) {}

  /** Triggers without an outcome yet (all cameras). */
  get waiting(): number {
    return this.open.size;
  }

  /** A trigger arrived (call in arrival order, before anything can answer it). */
  register(part: PartRef): void {
    if (this.open.has(part.triggerId) || this.answered.has(part.triggerId))
      throw new Error(`trigger ${part.triggerId} registered twice`);
    let resolve!: () => void;
    let reject!: (err: Error) => void;
    const durable = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // the caller may not wait for it (a refused trigger): a failure is logged in persistNext()
    durable.catch(() => undefined);
    const entry: Entry = { part, durable, resolve, reject };
    const ms = this.deps.resultTimeoutMs(part.cameraId);
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      this.answer(
        entry,
        this.deps.errorDoc(part, 'result-timeout', `no result within ${ms} ms of the trigger`),
      );
    }, ms);
    entry.timer.unref();
    this.open.set(part.triggerId, entry);
    const q = this.queues.get(part.cameraId) ?? [];
    q.push(entry);
    this.queues.set(part.cameraId, q);
  }

  /**
   * The verdict on a trigger's frame (build gets the registered trigger). Resolves once the result
   * is durable, after those of the camera's earlier triggers.
   */
  complete(
    cameraId: string,
    triggerId: string,
    build: (part: PartRef) => InspectionResult,
    fallback: Omit<PartRef, 'cameraId' | 'triggerId'>,
  ): Promise<void> {
    const entry = this.open.get(triggerId);
    if (entry) return this.answer(entry, build(entry.part));
    if (this.answered.has(triggerId)) return this.lateOutcome({ cameraId, triggerId, ...fallback });
    // a trigger nobody registered (a caller that went round the service): still never silent
    return this.persistNow(build({ cameraId, triggerId, ...fallback }));
  }

  /** A trigger that could not be inspected. Resolves once its error result is durable. */
  fail(part: PartRef, reason: ResultErrorReason, detail: string): Promise<void> {
    const entry = this.open.get(part.triggerId);
    if (entry) return this.answer(entry, this.deps.errorDoc(entry.part, reason, detail));
    if (this.answered.has(part.triggerId)) {
      // e.g. its durable result could not be written (publish-error after a failed persist)
      this.deps.logger.debug({ trigger: part.triggerId, reason }, 'outcome for an answered trigger ignored');
      return Promise.resolve();
    }
    return this.persistNow(this.deps.errorDoc(part, reason, detail));
  }

  /**
   * Answers every trigger still waiting with `reason` (the service is stopping) and resolves once
   * every result handed over is durable or failed.
   */
  async close(reason: ResultErrorReason, detail: string): Promise<void> {
    for (const entry of [...this.open.values()])
      this.answer(entry, this.deps.errorDoc(entry.part, reason, detail));
    while (this.persisting.size > 0) await Promise.allSettled([...this.persisting]);
  }

  private answer(entry: Entry, doc: InspectionResult): Promise<void> {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.doc = doc;
    this.open.delete(entry.part.triggerId);
    this.answered.add(entry.part.triggerId);
    if (this.answered.size > ANSWERED_MEMORY) this.answered.delete(this.answered.values().next().value!);
    this.flush(entry.part.cameraId);
    return entry.durable;
  }

  /** Hands the answered head of the camera's queue to persist, in order, as far as it goes. */
  private flush(cameraId: string): void {
    const q = this.queues.get(cameraId);
    while (q && q.length > 0 && q[0].doc) {
      const entry = q.shift() as Entry;
      this.persistNext(entry.doc!, entry.resolve, entry.reject);
    }
    if (q && q.length === 0) this.queues.delete(cameraId);
  }

  private persistNow(doc: InspectionResult): Promise<void> {
    const p = new Promise<void>((resolve, reject) => this.persistNext(doc, resolve, reject));
    p.catch(() => undefined); // logged in persistNext; a caller may not wait for it
    return p;
  }

  private persistNext(doc: InspectionResult, resolve: () => void, reject: (err: Error) => void): void {
    const p = this.deps.persist(doc).then(
      () => {
        this.deps.durable(doc);
        resolve();
      },
      (err: Error) => {
        this.deps.logger.error(
          { err: err.message, result: doc.id, trigger: doc.triggerId, verdict: doc.verdict },
          'inspection result not made durable',
        );
        reject(err);
      },
    );
    this.persisting.add(p);
    void p.finally(() => this.persisting.delete(p));
  }

  private lateOutcome(part: PartRef): Promise<void> {
    this.deps.logger.warn(
      { camera: part.cameraId, trigger: part.triggerId, partId: part.partId },
      'an outcome arrived after the trigger was answered (result timeout): dropped',
    );
    this.deps.late?.(part);
    return Promise.resolve();
  }
}
