// Sends calibrated thresholds to a running service with its `set-thresholds` command (docs/mqtt.md)
// and waits for the response that echoes our transaction id. MQTT 3.1.1 (the embedded broker speaks
// nothing newer; request/response here needs only the response topic and the transaction id).
import { randomUUID } from 'node:crypto';
import mqtt, { type IClientOptions } from 'mqtt';
import type { Calibration } from '../config/schema.js';
import type { CommandResponse } from '../mqtt/commands.js';
import { Topics } from '../mqtt/topics.js';
import type { CalibratedThresholds } from './config-writer.js';

export interface SendOptions {
  url: string;
  baseTopic: string;
  cameraId: string;
  thresholds: CalibratedThresholds;
  calibration: Calibration;
  timeoutMs?: number;
  /** Credentials and TLS (from a config's mqtt section). */
  clientOptions?: IClientOptions;
  /**
   * Send as this client: MQTT client id, and `<base>/request/set-thresholds/<id>` (its rule in
   * mqtt.commands.clients applies). Default: a random `adaclip-edge-calibrate-<8 hex>`. Either way
   * the request's last level is our own client id, which the shipped broker ACLs require (%c).
   */
  requester?: string;
}

/** Resolves with the service's result; rejects with the service's error or why none came. */
export async function sendThresholds(o: SendOptions): Promise<unknown> {
  const topics = new Topics(o.baseTopic);
  const transactionId = `calibrate-${randomUUID()}`;
  const timeoutMs = o.timeoutMs ?? 10_000;
  const clientId = o.requester ?? `adaclip-edge-calibrate-${transactionId.slice(-8)}`;
  const requestTopic = topics.request('set-thresholds', clientId);
  const responseTopic = topics.response('set-thresholds', clientId);
  const client = mqtt.connect(o.url, {
    ...o.clientOptions,
    protocolVersion: 4,
    clientId,
    reconnectPeriod: 0,
    connectTimeout: timeoutMs,
  });
  try {
    return await new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `no response on ${responseTopic} within ${timeoutMs / 1000} s: is the service running on ${o.url} with mqtt.baseTopic "${topics.base}"?`,
            ),
          ),
        timeoutMs,
      );
      const fail = (err: Error) => {
        clearTimeout(timer);
        reject(new Error(`MQTT ${o.url}: ${err.message}`));
      };
      client.once('error', fail);
      client.on('message', (_topic, payload) => {
        let res: CommandResponse;
        try {
          res = JSON.parse(payload.toString('utf8')) as CommandResponse;
        } catch {
          return; // not ours
        }
        if (res.transactionId !== transactionId) return;
        clearTimeout(timer);
        if (res.ok) resolve(res.result);
        else reject(new Error(`the service refused the thresholds: ${res.error}`));
      });
      client.once('connect', () => {
        client.subscribe(responseTopic, { qos: 1 }, (err) => {
          if (err) return fail(err);
          const request = {
            transactionId,
            camera: o.cameraId,
            thresholds: o.thresholds,
            calibration: o.calibration,
          };
          client.publish(requestTopic, JSON.stringify(request), { qos: 1 }, (e) => {
            if (e) fail(e);
          });
        });
      });
    });
  } finally {
    await client.endAsync(true).catch(() => undefined);
  }
}
