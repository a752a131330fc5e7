// The operator's loop, built from the config and fed from the bus: the history (every durable
// result and event, with retention), each camera's alarm board, and the actions operators take:
// acknowledgements, reviews, suspensions. Every door (dashboard, MQTT command, Sparkplug DCMD) calls
// these same objects with its origin.
import type { Config } from '../config/schema.js';
import { HistoryStore } from '../history/history-store.js';
import type { Metrics } from '../metrics/prometheus.js';
import { Acknowledgements } from '../operator/acknowledgements.js';
import { AlarmBoard } from '../operator/alarm-board.js';
import { Reviews } from '../operator/reviews.js';
import { Suspensions } from '../operator/suspensions.js';
import type { Authorise } from '../operator/types.js';
import type { Logger } from '../util/log.js';
import type { ServiceBus } from './event-bus.js';

/** How often retention runs (and once at start). */
const PRUNE_EVERY_MS = 10 * 60_000;

export class OperatorLoop {
  readonly history?: HistoryStore;
  readonly board: AlarmBoard;
  readonly acknowledgements: Acknowledgements;
  readonly reviews: Reviews;
  readonly suspensions: Suspensions;
  private pruneTimer?: NodeJS.Timeout;
  private readonly unsubscribe: (() => void)[] = [];
  /** The cameras the suspensions know; changed in place by a reload. */
  private readonly ids: string[];

  constructor(
    private readonly cfg: Config,
    private readonly deps: { bus: ServiceBus; metrics: Metrics; logger: Logger; authorise?: Authorise },
  ) {
    const { bus, metrics, logger, authorise } = deps;
    const ids = (this.ids = cfg.cameras.map((c) => c.id));
    if (cfg.history.enabled)
      this.history = new HistoryStore({
        path: cfg.history.path,
        maxAgeH: cfg.history.maxAgeH,
        maxRows: cfg.history.maxRows,
      });
    const history = this.history;
    this.board = new AlarmBoard(ids, (s) => bus.emit('alarm', s));
    this.acknowledgements = new Acknowledgements({
      history,
      board: this.board,
      authorise,
      acknowledged: (camera) => metrics.acknowledgements.inc({ camera }),
    });
    this.reviews = new Reviews({
      history,
      snapshotDir: cfg.snapshots.dir,
      reviewsDir: cfg.history.reviewsDir,
      authorise,
      reviewed: (kind, label) => metrics.reviews.inc({ kind, label }),
      warn: (obj, msg) => logger.warn(obj, msg),
    });
    this.suspensions = new Suspensions(ids, {
      history,
      authorise,
      changed: (cameraId, suspension) => bus.emit('suspension', { cameraId, suspension }),
      log: (obj, msg) => logger.info(obj, msg),
    });
  }

  /** Opens the history (a bad history.path stops the start here, naming the key) and subscribes. */
  start(): void {
    const { bus, metrics, logger } = this.deps;
    const history = this.history;
    if (history) {
      history.open();
      this.prune();
      this.pruneTimer = setInterval(() => this.prune(), PRUNE_EVERY_MS);
      this.pruneTimer.unref();
      metrics.readAtScrape({ historyRows: () => history.counts() });
      const write = (what: string, fn: () => void) => {
        try {
          fn();
        } catch (err) {
          metrics.historyErrors.inc();
          logger.error({ err: (err as Error).message }, `history: ${what} not stored`);
        }
      };
      this.unsubscribe.push(
        bus.on('event', (e) => write(`event ${e.id}`, () => history.addEvent(e))),
        bus.on('result', (r) => write(`result ${r.id}`, () => history.addResult(r))),
      );
    }
    // after the history: an acknowledgement finds the event it names
    this.unsubscribe.push(bus.on('event', (e) => this.board.onEvent(e)));
  }

  /** A camera started by a reload, or restarted with a changed config (it starts without an alarm). */
  addCamera(cameraId: string): void {
    if (!this.ids.includes(cameraId)) this.ids.push(cameraId);
    this.board.add(cameraId);
  }

  /** A camera removed by a reload, once its last frame is through. */
  removeCamera(cameraId: string): void {
    const i = this.ids.indexOf(cameraId);
    if (i >= 0) this.ids.splice(i, 1);
    this.suspensions.forget(cameraId);
    this.board.remove(cameraId);
  }

  stop(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    clearInterval(this.pruneTimer);
    this.suspensions.stop();
    this.history?.close();
  }

  private prune(): void {
    try {
      const n = this.history!.prune();
      if (n.results + n.events + n.acknowledgements > 0)
        this.deps.logger.info(n, 'history retention: rows deleted');
    } catch (err) {
      this.deps.logger.error({ err: (err as Error).message }, 'history retention failed');
    }
  }
}
