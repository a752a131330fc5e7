// An in-process MQTT broker (aedes) for when no mqtt.url is configured, so the demo runs alone.
// aedes speaks MQTT 3.1.1 only: clients of the embedded broker must use protocolVersion 4.
import { createServer, type Server, type AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from '../util/log.js';

export interface EmbeddedBrokerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
}

export class EmbeddedBroker {
  private broker?: Aedes;
  private server?: Server;
  private boundPort = 0;

  constructor(
    private readonly opts: EmbeddedBrokerOptions,
    private readonly logger: Logger,
  ) {}

  /** The URL clients connect to; valid after start(). */
  get url(): string {
    if (!this.server) throw new Error('embedded broker is not started');
    const host = this.opts.host === '0.0.0.0' || this.opts.host === '::' ? '127.0.0.1' : this.opts.host;
    return `mqtt://${host.includes(':') ? `[${host}]` : host}:${this.boundPort}`;
  }

  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<string> {
    if (this.server) return this.url;
    const broker = await Aedes.createBroker();
    broker.on('clientError', (client, err) =>
      this.logger.debug({ client: client?.id, err: err.message }, 'embedded broker: client error'),
    );
    const server = createServer(broker.handle);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.opts.port, this.opts.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      const e = err as NodeJS.ErrnoException;
      throw new Error(
        `embedded MQTT broker cannot listen on ${this.opts.host}:${this.opts.port} (${e.code ?? e.message}); ` +
          'set mqtt.embedded.port to a free port, or mqtt.url to use an external broker',
      );
    }
    this.broker = broker;
    this.server = server;
    this.boundPort = (server.address() as AddressInfo).port;
    this.logger.info({ url: this.url }, 'embedded MQTT broker (aedes, MQTT 3.1.1) listening');
    return this.url;
  }

  async stop(): Promise<void> {
    const { server, broker } = this;
    this.server = undefined;
    this.broker = undefined;
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // close() waits for open sockets; aedes.close() has ended its clients already
      });
    }
  }
}
