// GET /readyz: whether this instance can do its job now (Kubernetes takes it out of service while
// not). Ready when the model is loaded, MQTT can take what it produces (the broker is connected, or
// the outbox still has room below its high-water mark, so a short broker outage is not a reason),
// and every camera reports a state. GET /healthz only says the process is up.

export interface ReadinessInput {
  modelLoaded: boolean;
  mqttConnected: boolean;
  outboxPending: number;
  highWater: number;
  /** Every configured camera, with its state once the pipeline reports one. */
  cameras: Record<string, string | undefined>;
}

export interface Readiness {
  ready: boolean;
  /** Why not, one line each; empty when ready. */
  reasons: string[];
  checks: {
    model: boolean;
    mqtt: { connected: boolean; outboxPending: number; highWater: number };
    cameras: Record<string, string>;
  };
}

export function readiness(i: ReadinessInput): Readiness {
  const reasons: string[] = [];
  if (!i.modelLoaded) reasons.push('model: not loaded yet');
  if (!i.mqttConnected && i.outboxPending >= i.highWater)
    reasons.push(
      `mqtt: broker not connected and ${i.outboxPending} documents wait in the outbox (high-water mark ${i.highWater})`,
    );
  const cameras: Record<string, string> = {};
  for (const [id, state] of Object.entries(i.cameras)) {
    if (state === undefined) reasons.push(`camera ${id}: no state yet`);
    cameras[id] = state ?? 'unknown';
  }
  return {
    ready: reasons.length === 0,
    reasons,
    checks: {
      model: i.modelLoaded,
      mqtt: { connected: i.mqttConnected, outboxPending: i.outboxPending, highWater: i.highWater },
      cameras,
    },
  };
}

/** The input from the running parts: MQTT's connection and outbox, each configured camera's state. */
export function readinessOf(
  p: {
    modelLoaded: boolean;
    mqtt?: { connectionState: string; getStats(): { outbox: { pending: number } } };
    cameras: (id: string) => string | undefined;
  },
  cfg: { cameras: { id: string }[]; mqtt: { outbox: { highWater: number } } },
): Readiness {
  return readiness({
    modelLoaded: p.modelLoaded,
    mqttConnected: p.mqtt?.connectionState === 'connected',
    outboxPending: p.mqtt?.getStats().outbox.pending ?? 0,
    highWater: cfg.mqtt.outbox.highWater,
    cameras: Object.fromEntries(cfg.cameras.map((c) => [c.id, p.cameras(c.id)])),
  });
}
