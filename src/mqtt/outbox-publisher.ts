// Drains the durable outbox to the broker: QoS 1, in store order (hence in order per camera), with
// a bounded window of unacknowledged publishes. A row leaves the store only after its PUBACK.
// Replay: after a reconnect mqtt.js resends its unacknowledged publishes itself (in order); after a
// process restart every row still in the store is unacknowledged and is published again from the
// start. If a publish fails without a PUBACK (client stopped), the publisher waits for the window
// to empty and rewinds to the oldest row in the store, so order is kept.
import { EventEmitter } from 'node:events';
import type { Logger } from '../util/log.js';
import type { MqttConnection } from './connection.js';
import type { DurableOutbox, StoredEvent } from './outbox.js';
import type { Topics } from './topics.js';

export interface OutboxPublisherOptions {
  /** Unacknowledged publishes at most (mqtt.outbox.inflight). */
  inflight: number;
}

export interface DeliveredInfo {
  seq: number;
  eventId: string;
  cameraId: string;
  acceptedAtMs: number;
}

export class OutboxPublisher extends EventEmitter<{ delivered: [DeliveredInfo] }> {
  private running = false;
  private cursor = 0;
  private inflight = 0;
  private rewindWhenIdle = false;
  private readonly drainWaiters: (() => void)[] = [];
  private readonly onWake = () => this.pump();

  constructor(
    private readonly outbox: DurableOutbox,
    private readonly connection: MqttConnection,
    private readonly topics: Topics,
    private readonly opts: OutboxPublisherOptions,
    private readonly logger: Logger,
  ) {
    super();
  }

  get inflightCount(): number {
    return this.inflight;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.outbox.on('persisted', this.onWake);
    this.connection.on('connect', this.onWake);
    this.pump();
  }

  /** Stops publishing new rows and waits (up to timeoutMs) for the window to be acknowledged. */
  async stop(timeoutMs = 2000): Promise<void> {
    this.running = false;
    this.outbox.off('persisted', this.onWake);
    this.connection.off('connect', this.onWake);
    if (this.inflight === 0) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.drainWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  private window(): number {
    return Math.min(this.opts.inflight, this.connection.serverReceiveMaximum);
  }

  private pump(): void {
    while (this.running && this.connection.connected && !this.rewindWhenIdle) {
      const room = this.window() - this.inflight;
      if (room <= 0) return;
      const rows = this.outbox.readAfter(this.cursor, room);
      if (rows.length === 0) return;
      for (const row of rows) this.publish(row);
    }
  }

  private publish(row: StoredEvent): void {
    this.cursor = row.seq;
    this.inflight++;
    this.connection
      .publish(
        row.kind === 'result' ? this.topics.result(row.cameraId) : this.topics.event(row.cameraId),
        row.payload,
        {
          qos: 1,
          properties: { contentType: 'application/json' },
        },
      )
      .then(
        () => {
          this.outbox.markDelivered(row.seq);
          this.emit('delivered', {
            seq: row.seq,
            eventId: row.eventId,
            cameraId: row.cameraId,
            acceptedAtMs: row.acceptedAtMs,
          });
        },
        (err: Error & { code?: unknown }) => {
          if (typeof err.code === 'number') {
            // An error PUBACK: the broker refused this event for good (e.g. its ACL); retrying would
            // block every later event, so it is removed and counted as a loss.
            this.logger.error(
              { eventId: row.eventId, cameraId: row.cameraId, err: err.message },
              'broker refused an event',
            );
            this.outbox.markBrokerRejected(row.seq);
          } else {
            this.rewindWhenIdle = true;
          }
        },
      )
      .finally(() => {
        this.inflight--;
        if (this.inflight === 0) this.onIdle();
        // refill in chunks rather than one query per PUBACK
        else if (this.window() - this.inflight >= Math.min(16, Math.ceil(this.window() / 4))) this.pump();
      });
  }

  private onIdle(): void {
    for (const w of this.drainWaiters.splice(0)) w();
    if (this.rewindWhenIdle) {
      // Every row still in the store is unacknowledged: start again from the oldest one.
      this.outbox.flush();
      this.cursor = 0;
      this.rewindWhenIdle = false;
    }
    this.pump();
  }
}
