// `adaclip-edge run --config FILE`: loads and validates the config, starts the service, and stops it
// cleanly on SIGINT/SIGTERM (a second signal forces the exit). SIGHUP re-reads the file and applies
// what changed without a restart (cameras, model bundle; docs/live-changes.md).
import { loadConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { createLogger } from '../util/log.js';
import { loadCommandConfig } from './load-config.js';

export async function runCommand(opts: { config: string; logLevel?: string }): Promise<number> {
  const cfg = loadCommandConfig(opts.config);
  if (!cfg) return 2;
  if (opts.logLevel) cfg.log.level = opts.logLevel as typeof cfg.log.level;
  const logger = createLogger({ level: cfg.log.level, pretty: cfg.log.pretty });
  const { Service } = await import('../service/service.js');
  const reread = (): Config => {
    const next = loadConfigFile(opts.config);
    if (opts.logLevel) next.log.level = opts.logLevel as typeof next.log.level;
    return next;
  };
  const service = new Service(cfg, logger, { loadConfig: reread });

  let stopping: Promise<void> | undefined;
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without waiting for the drain');
      process.exit(130);
    }
    logger.info({ signal }, 'stopping: draining in-flight frames');
    stopping = service.stop().catch((err: unknown) => logger.error({ err }, 'error while stopping'));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // the outcome is logged (and counted) by the service; a refused reload changes nothing
  process.on('SIGHUP', () => void service.changes.reload('signal').catch(() => undefined));

  try {
    await service.start();
  } catch (err) {
    logger.fatal({ err }, `cannot start: ${(err as Error).message}`);
    await service.stop().catch(() => undefined);
    await flush(logger);
    return 1;
  }
  const code = await service.finished;
  if (stopping) await stopping;
  logger.info({ exitCode: code }, code === 0 ? 'stopped' : 'stopped with accepted documents undelivered');
  await flush(logger);
  return code;
}

async function flush(logger: { flush?: (cb?: (err?: Error) => void) => void }): Promise<void> {
  await new Promise<void>((resolve) => (logger.flush ? logger.flush(() => resolve()) : resolve()));
}
