// The service's MQTT topic tree under a configurable base (docs/mqtt.md documents every topic with
// payload examples). One place builds every topic so that the docs, the publisher and the command
// router cannot drift apart. Also MQTT's own filter rules: which filters are valid, which topics
// a filter matches.
import { COMMAND_NAMES, type CommandName } from '../config/command-names.js';

export { COMMAND_NAMES, type CommandName };

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

  /** A request; with `client`, the requester's own topic, which a broker ACL can bind to it. */
  request(command: string, client?: string): string {
    const t = `${this.base}/request/${checkLevel(command, 'command')}`;
    return client === undefined ? t : `${t}/${checkLevel(client, 'client id')}`;
  }

  /** The answer to a request: `<base>/response/<command>`, or `.../<client>` for an identified one. */
  response(command: string, client?: string): string {
    const t = `${this.base}/response/${checkLevel(command, 'command')}`;
    return client === undefined ? t : `${t}/${checkLevel(client, 'client id')}`;
  }

  /** Subscription filters for every command request: anonymous and identified. */
  get requestFilters(): string[] {
    return [`${this.base}/request/+`, `${this.base}/request/+/+`];
  }

  /** The command named by a request topic, or undefined when the topic is not a request. */
  commandOf(topic: string): string | undefined {
    return this.requestOf(topic)?.command;
  }

  /**
   * The command and, for `<base>/request/<command>/<client>`, the requester's id; undefined when the
   * topic is not a request.
   */
  requestOf(topic: string): { command: string; client?: string } | undefined {
    const prefix = `${this.base}/request/`;
    if (!topic.startsWith(prefix)) return undefined;
    const levels = topic.slice(prefix.length).split('/');
    if (levels.length > 2 || levels.some((l) => l.length === 0)) return undefined;
    return levels.length === 1 ? { command: levels[0] } : { command: levels[0], client: levels[1] };
  }

  /**
   * Whether a requester-supplied MQTT 5 response topic may be used: only under
   * `<base>/response/`, or under one of `extraPrefixes` (mqtt.commands.responseTopics). Anything
   * else would let a request make the service publish, with its own credentials, wherever it names.
   */
  isAllowedResponseTopic(topic: string, extraPrefixes: readonly string[] = []): boolean {
    if (topic.length === 0 || topic.length > 512 || /[#+]/.test(topic) || topic.includes('\0')) return false;
    if (topic.startsWith(`${this.base}/response/`) && topic.length > this.base.length + 10) return true;
    if (topic === this.base || topic.startsWith(`${this.base}/`)) return false;
    return extraPrefixes.some((p) => p.length > 0 && topic.startsWith(p));
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
