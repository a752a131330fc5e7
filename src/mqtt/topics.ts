// The service's MQTT topic tree under a configurable base (docs/mqtt.md documents every topic with
// payload examples). One place builds every topic so that the docs, the publisher and the command
// router cannot drift apart. Also MQTT's own filter rules: which filters are valid, which topics
// a filter matches.
export const COMMAND_NAMES = [
  'set-class',
  'set-thresholds',
  'trigger',
  'status',
  'rebirth',
  'suspend',
  'resume',
  'reload',
  'load-bundle',
] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

/** MQTT 5 message expiry for retained camera state: a state older than a day says nothing useful. */
export const STATE_EXPIRY_S = 24 * 60 * 60;

export class Topics {
  readonly base: string;

  constructor(baseTopic: string) {
    const base = baseTopic.replace(/\/+$/, '');
    if (base.length === 0 || /[#+]/.test(base)) {
      throw new Error(`mqtt.baseTopic: "${baseTopic}" is not a topic prefix without wildcards`);
    }
    this.base = base;
  }

  /** online/offline, retained; "offline" is also the last will. */
  get availability(): string {
    return `${this.base}/availability`;
  }

  /** Who this device is: site, line, software, model, cameras, dashboard URL (retained; the fleet view). */
  get info(): string {
    return `${this.base}/info`;
  }

  /** Periodic service statistics (not retained). */
  get stats(): string {
    return `${this.base}/stats`;
  }

  /** Retained outbox health: pending events and loss counters (never silent about drops). */
  get outbox(): string {
    return `${this.base}/outbox`;
  }

  event(cameraId: string): string {
    return `${this.base}/${checkLevel(cameraId, 'camera id')}/event`;
  }

  /** Per-part inspection results of a trigger camera (QoS 1, from the durable outbox). */
  result(cameraId: string): string {
    return `${this.base}/${checkLevel(cameraId, 'camera id')}/result`;
  }

  /** The camera's alarm state with its acknowledgement, retained. */
  alarm(cameraId: string): string {
    return `${this.base}/${checkLevel(cameraId, 'camera id')}/alarm`;
  }

  state(cameraId: string): string {
    return `${this.base}/${checkLevel(cameraId, 'camera id')}/state`;
  }

  snapshot(cameraId: string): string {
    return `${this.base}/${checkLevel(cameraId, 'camera id')}/snapshot`;
  }

  request(command: string): string {
    return `${this.base}/request/${checkLevel(command, 'command')}`;
  }

  response(command: string): string {
    return `${this.base}/response/${checkLevel(command, 'command')}`;
  }

  /** Subscription filter for every command request. */
  get requestFilter(): string {
    return `${this.base}/request/+`;
  }

  /** The command named by a request topic, or undefined when the topic is not a request. */
  commandOf(topic: string): string | undefined {
    const prefix = `${this.base}/request/`;
    if (!topic.startsWith(prefix)) return undefined;
    const rest = topic.slice(prefix.length);
    return rest.length > 0 && !rest.includes('/') ? rest : undefined;
  }

  /**
   * Whether a requester-supplied MQTT 5 response topic may be used. Refused: wildcards, and any topic
   * inside our own tree except the response branch, so a request cannot make the service publish
   * over its own events, state or availability.
   */
  isAllowedResponseTopic(topic: string): boolean {
    if (topic.length === 0 || topic.length > 512 || /[#+]/.test(topic) || topic.includes('\0')) return false;
    if (topic === this.base || topic.startsWith(`${this.base}/`))
      return topic.startsWith(`${this.base}/response/`);
    return !topic.startsWith('spBv1.0/') && !topic.startsWith('$');
  }
}

function checkLevel(level: string, what: string): string {
  if (level.length === 0 || /[/#+]/.test(level) || level.includes('\0')) {
    throw new Error(`${what} "${level}" cannot be a topic level (empty, or contains / # + or NUL)`);
  }
  return level;
}

/** MQTT filter syntax: '#' only as the last level, '+' and '#' only as whole levels. */
export function isValidFilter(filter: string): boolean {
  const levels = filter.split('/');
  return levels.every((l, i) =>
    l === '#' ? i === levels.length - 1 : l === '+' || (!l.includes('#') && !l.includes('+')),
  );
}

/** Whether a topic matches an MQTT filter ($-topics never match a leading wildcard). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
