// The stop, in reverse order of the start: drain the pipeline, answer the triggers still open,
// deliver the outbox (up to mqtt.outbox.drainTimeoutMs), then the rest. Returns the exit code:
// EXIT_UNDELIVERED when accepted documents are still on disk, waiting for the next start.
import type { Logger } from '../util/log.js';

/** The exit code of a run that ended with accepted events or results still undelivered on disk. */
export const EXIT_UNDELIVERED = 3;

interface Stoppable {
  stop(): Promise<unknown>;
}

export interface ShutdownParts {
  pipeline?: { stop(): Promise<{ drained: boolean; abandoned: unknown }> };
  ledger?: { close(reason: 'shutdown', detail: string): Promise<unknown> };
  mqtt?: { drain(timeoutMs: number): Promise<unknown>; stop(): Promise<{ pending: number }> };
  dashboard?: Stoppable;
  sparkplug?: Stoppable;
  engines: { close(): Promise<unknown> };
  operator: { stop(): void };
  drainTimeoutMs: number;
  logger: Logger;
}

export async function shutdown(p: ShutdownParts): Promise<number> {
  const warn = (what: string) => (err: unknown) => void p.logger.warn({ err }, what);
  const report = await p.pipeline?.stop();
  if (report && !report.drained) p.logger.warn({ abandoned: report.abandoned }, 'drain time ran out');
  await p.ledger
    ?.close('shutdown', 'the service stopped before this trigger had a result')
    .catch(warn('results at stop'));
  await p.mqtt?.drain(p.drainTimeoutMs).catch(warn('outbox drain'));
  await p.dashboard?.stop().catch(warn('dashboard stop'));
  await p.sparkplug?.stop().catch(warn('sparkplug stop'));
  const undelivered = await p.mqtt
    ?.stop()
    .then((final) => final.pending)
    .catch(warn('mqtt stop'));
  await p.engines.close().catch(warn('engine close'));
  p.operator.stop();
  return undelivered ? EXIT_UNDELIVERED : 0;
}
