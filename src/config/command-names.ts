// The names of the commands (MQTT JSON requests, and what a Sparkplug DCMD write or a dashboard
// action counts as) in one place, at the bottom, so that the config schema's allow-lists, the topic
// tree (src/mqtt/topics.ts) and the command policy (src/operator/command-policy.ts) agree.
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

/** What mqtt.commands.allow holds by default: everything but load-bundle (a new model from a path). */
export const DEFAULT_ALLOWED_COMMANDS: readonly CommandName[] = COMMAND_NAMES.filter(
  (c) => c !== 'load-bundle',
);

/** Everything a door can ask for: the commands and the dashboard's own operator actions. */
export const ACTION_NAMES = [...COMMAND_NAMES, 'acknowledge', 'review'] as const;
export type GuardedAction = (typeof ACTION_NAMES)[number];
