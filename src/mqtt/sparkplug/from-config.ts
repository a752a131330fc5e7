// Builds the edge node's options from the service config: connection settings (auth, TLS) resolved
// the same way as the JSON MQTT connection, but with its own client id, since the node needs its
// own session and will.
import type { CameraConfig, Config } from '../../config/schema.js';
import type { Logger } from '../../util/log.js';
import { defaultClientId, resolveMqttSettings, toClientOptions } from '../client-options.js';
import { thresholdMetrics } from './metrics.js';
import type { SparkplugCamera, SparkplugNodeOptions } from './node.js';

export function sparkplugOptionsFromConfig(
  cfg: Config,
  args: { url?: string; protocolVersion?: 4 | 5; logger?: Logger; softwareVersion?: string } = {},
): SparkplugNodeOptions {
  const sp = cfg.mqtt.sparkplug;
  const clientId = `${cfg.mqtt.clientId ?? defaultClientId()}-spb`.slice(0, 64);
  const settings = resolveMqttSettings(cfg.mqtt, {
    url: args.url,
    clientId,
    protocolVersion: args.protocolVersion,
  });
  return {
    url: settings.url,
    groupId: sp.groupId,
    edgeNodeId: sp.edgeNodeId ?? `${cfg.site}-${cfg.line}`,
    primaryHostId: sp.primaryHostId,
    bdSeqFile: sp.bdSeqFile,
    mqtt: toClientOptions(settings),
    logger: args.logger,
    softwareVersion: args.softwareVersion,
    cameras: cfg.cameras.map(sparkplugCamera),
  };
}

/** A camera as a Sparkplug device: its class name and thresholds from its config. */
export function sparkplugCamera(c: CameraConfig): SparkplugCamera {
  return {
    id: c.id,
    className: c.className,
    initial: thresholdMetrics({
      image: c.thresholds.image,
      pixel: c.thresholds.pixel,
      clear: c.thresholds.clear ?? c.thresholds.image,
      minRegionAreaPct: c.thresholds.minRegionAreaPct,
    }),
  };
}
