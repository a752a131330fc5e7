// Who may do what: the one rule book for every command and every change of settings, whatever the
// door (MQTT JSON request, Sparkplug B DCMD write, dashboard). Built from `mqtt.commands`:
//   enabled  false: neither JSON commands nor DCMD writes change anything;
//   allow    what a requester without a rule of its own may run (JSON commands and DCMD writes);
//   clients  per-client rules: an MQTT requester's id (the last level of its request topic, which
//            the broker's ACL binds to its client id or user name) or a dashboard user, and the
//            commands it may run instead of `allow`.
// The service checks here in CameraSettings.authorise (settings), in the operator actions' hook
// (suspend, resume, acknowledge, review) and in the command router (every JSON command).
import { ACTION_NAMES, type CommandName, type GuardedAction } from '../config/command-names.js';
import { OperatorError, type ActionOrigin, type Authorise } from './types.js';

export { ACTION_NAMES, type GuardedAction };

/**
 * Which door a request came through, and who asked where the door can tell: `clientId` is the MQTT
 * requester's id (JSON: its request topic level; DCMD: mqtt.sparkplug.primaryHostId), `user` the
 * signed-in dashboard user.
 */
export type RequestOrigin = ActionOrigin;

export interface ClientRule {
  clientId?: string;
  user?: string;
  allow: readonly GuardedAction[];
}

export interface CommandPolicyConfig {
  enabled: boolean;
  allow: readonly CommandName[];
  clients?: readonly ClientRule[];
}

/** A refusal: the message names the config key that would allow it. HTTP 403 at the dashboard. */
export class NotAllowedError extends OperatorError {
  override name = 'NotAllowedError';
  constructor(message: string) {
    super(403, message);
  }
}

export class CommandPolicy {
  constructor(private readonly cfg: CommandPolicyConfig) {}

  /** Throws NotAllowedError when `origin` may not run `action`. */
  check(action: GuardedAction, origin: RequestOrigin): void {
    const why = this.refusal(action, origin);
    if (why) throw new NotAllowedError(why);
  }

  /** The operator actions' hook (Authorise), bound: suspend, resume, acknowledge, review. */
  readonly authorise: Authorise = (action, _cameraId, origin) => this.check(action, origin);

  allows(action: GuardedAction, origin: RequestOrigin): boolean {
    return this.refusal(action, origin) === undefined;
  }

  private refusal(action: GuardedAction, origin: RequestOrigin): string | undefined {
    const rules = this.cfg.clients ?? [];
    if (origin.door === 'dashboard') {
      // the dashboard has its own roles; a rule for a user narrows what that user may do
      const i = origin.user === undefined ? -1 : rules.findIndex((r) => r.user === origin.user);
      if (i >= 0 && !rules[i].allow.includes(action))
        return `"${action}" is not allowed for dashboard user "${origin.user}" (mqtt.commands.clients[${i}].allow)`;
      return undefined;
    }
    const via = origin.door === 'sparkplug' ? 'Sparkplug DCMD' : 'MQTT';
    if (!this.cfg.enabled)
      return `"${action}" refused: commands over ${via} are disabled (mqtt.commands.enabled: false)`;
    const i = origin.clientId === undefined ? -1 : rules.findIndex((r) => r.clientId === origin.clientId);
    if (i >= 0) {
      if (rules[i].allow.includes(action)) return undefined;
      return `"${action}" is not allowed for client "${origin.clientId}" over ${via} (mqtt.commands.clients[${i}].allow)`;
    }
    if ((this.cfg.allow as readonly string[]).includes(action)) return undefined;
    return `"${action}" is not allowed over ${via} (mqtt.commands.allow)`;
  }
}
