// The fleet view's MQTT side: one read-only client on the central broker (or a site broker) that
// subscribes to the devices' status topics (FleetState.subscriptions) and feeds every message to
// the FleetState. A clean session: the view needs the retained state and what comes after it, not
// what it missed while down. It never publishes.
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { mqttSchema } from '../config/schema.js';
import { redactUrl, resolveMqttSettings, toClientOptions } from '../mqtt/client-options.js';
import type { Logger } from '../util/log.js';
import type { FleetState } from './fleet-state.js';

export interface FleetBrokerOptions {
  url: string;
  username?: string;
  passwordFile?: string;
  /** From the environment (ADACLIP_EDGE_FLEET_PASSWORD); the file wins when both are given. */
  password?: string;
  ca?: string;
  cert?: string;
  key?: string;
}

export class FleetSubscriber {
  private client?: MqttClient;
  private connected = false;

  constructor(
    private readonly broker: FleetBrokerOptions,
    private readonly state: FleetState,
    private readonly logger: Logger,
  ) {}

  get status(): { url: string; connected: boolean } {
    return { url: redactUrl(this.broker.url), connected: this.connected };
  }

  /** Connects (resolving at once: reconnects go on in the background) and subscribes. */
  start(): void {
    const b = this.broker;
    const tls = b.ca || b.cert || b.key ? { ca: b.ca, cert: b.cert, key: b.key } : undefined;
    // the service's own rules for URLs, credentials and TLS files (errors name the option)
    const cfg = mqttSchema.parse({
      url: b.url,
      protocolVersion: 4,
      username: b.username,
      password: b.passwordFile ? undefined : b.password,
      passwordFile: b.passwordFile,
      tls,
    });
    const settings = resolveMqttSettings(cfg, {
      clientId: `adaclip-fleet-${randomBytes(4).toString('hex')}`,
    });
    const client = mqtt.connect(settings.url, {
      ...toClientOptions(settings),
      clean: true,
      reconnectPeriod: 2000,
    });
    this.client = client;
    const filters = this.state.subscriptions();
    client.on('connect', () => {
      this.connected = true;
      this.logger.info({ broker: redactUrl(b.url), filters }, 'fleet view subscribed');
      client.subscribe(Object.fromEntries(filters.map((f) => [f, { qos: 1 as const }])), (err) => {
        if (err) this.logger.error({ err: err.message }, 'fleet view cannot subscribe');
      });
    });
    client.on('close', () => {
      if (this.connected)
        this.logger.warn({ broker: redactUrl(b.url) }, 'fleet view: broker connection lost');
      this.connected = false;
    });
    client.on('error', (err) => this.logger.warn({ err: err.message }, 'fleet view: broker error'));
    client.on('message', (topic, payload) => this.state.ingest(topic, payload));
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync(true).catch(() => undefined);
  }
}
