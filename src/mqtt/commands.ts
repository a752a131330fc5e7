// Request/response commands: `<base>/request/<command>` answered on `<base>/response/<command>`
// (`<base>/request/<command>/<client>` on `<base>/response/<command>/<client>`: the requester's own
// topics, which a broker ACL can bind to its client id or user), or on an MQTT 5 response topic with
// its correlation data, echoing the transaction id. Every request is size-limited, parsed, checked
// against the command policy (mqtt.commands: allow-list and per-client rules: operator/command-policy.ts)
// and validated with zod before a handler runs; anything else gets {ok:false, error, transactionId}
// and changes nothing. Requests run one at a time from a bounded queue, so a flood costs a bounded
// amount of memory and never crashes.
import { z } from 'zod';
import { calibrationSchema, type Calibration } from '../config/schema.js';
import { MAX_SUSPENSION_S } from '../operator/suspensions.js';
import type { Logger } from '../util/log.js';
import { CommandPolicy, type RequestOrigin } from '../operator/command-policy.js';
import { COMMAND_NAMES, type CommandName, type Topics } from './topics.js';

export interface ThresholdsPatch {
  image?: number;
  pixel?: number;
  clear?: number;
  minRegionAreaPct?: number;
}

/**
 * What the coordinator wires to the pipeline and the decision stage. A missing handler = unavailable.
 * `origin` says who asked (door mqtt, and the requester's id from its topic when it gave one).
 */
export interface CommandHandlers {
  setClass?(cameraId: string, className: string, origin: RequestOrigin): unknown;
  /** `calibration`: how the thresholds were calibrated (adaclip-edge calibrate --send). */
  setThresholds?(
    cameraId: string,
    thresholds: ThresholdsPatch,
    calibration: Calibration | undefined,
    origin: RequestOrigin,
  ): unknown;
  trigger?(cameraId: string, partId: string | undefined, origin: RequestOrigin): unknown;
  status?(origin: RequestOrigin): unknown;
  rebirth?(origin: RequestOrigin): unknown;
  suspend?(cameraId: string, o: { durationS?: number; comment?: string }, origin: RequestOrigin): unknown;
  resume?(cameraId: string, origin: RequestOrigin): unknown;
  /** Re-reads the config file: cameras added, removed or changed, a new model.bundle. */
  reload?(origin: RequestOrigin): unknown;
  /** Verifies, loads, warms up and swaps in the bundle at `path` whose model.onnx has `sha256`. */
  loadBundle?(path: string, sha256: string, origin: RequestOrigin): unknown;
}

const transactionId = z.union([z.string().max(128), z.number().finite()]).optional();
const camera = z.string().min(1).max(64);
const score = z.number().min(0).max(1);

export const commandSchemas = {
  'set-class': z.strictObject({ transactionId, camera, className: z.string().trim().min(1).max(128) }),
  'set-thresholds': z.strictObject({
    transactionId,
    camera,
    thresholds: z
      .strictObject({
        image: score.optional(),
        pixel: score.optional(),
        clear: score.optional(),
        minRegionAreaPct: z.number().min(0).max(100).optional(),
      })
      .refine((t) => Object.keys(t).length > 0, 'at least one of image, pixel, clear, minRegionAreaPct'),
    calibration: calibrationSchema.optional(),
  }),
  trigger: z.strictObject({ transactionId, camera, partId: z.string().min(1).max(128).optional() }),
  status: z.strictObject({ transactionId }),
  rebirth: z.strictObject({ transactionId }),
  suspend: z.strictObject({
    transactionId,
    camera,
    durationS: z.number().positive().max(MAX_SUSPENSION_S).optional(),
    comment: z.string().max(500).optional(),
  }),
  resume: z.strictObject({ transactionId, camera }),
  reload: z.strictObject({ transactionId }),
  'load-bundle': z.strictObject({
    transactionId,
    path: z.string().min(1).max(1024),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'the lowercase hex sha256 of the bundle (of its model.onnx)'),
  }),
} satisfies Record<CommandName, z.ZodType>;

export interface CommandResponse {
  ok: boolean;
  command: string;
  transactionId?: string | number;
  result?: unknown;
  error?: string;
  /** Set when the command ran but its MQTT 5 response topic was refused. */
  warning?: string;
}

export interface IncomingRequest {
  topic: string;
  payload: Buffer;
  /** MQTT 5 request properties, when present. */
  responseTopic?: string;
  correlationData?: Buffer;
}

export type Responder = (topic: string, response: CommandResponse, correlationData?: Buffer) => Promise<void>;

export interface CommandRouterOptions {
  /** Who may run what (mqtt.commands); default: anyone may run the commands of `allow`. */
  policy?: CommandPolicy;
  /** Without a policy: the commands anyone may run. */
  allow?: readonly CommandName[];
  /** MQTT 5 response topics allowed outside `<base>/response/` (mqtt.commands.responseTopics). */
  responseTopics?: readonly string[];
  maxPayloadBytes: number;
  /** Known camera ids; a request naming another camera is refused. Absent: not checked here. */
  cameraIds?: readonly string[];
  /** Requests waiting at most; more are dropped (counted, logged at most once per 10 s). */
  maxQueue?: number;
}

export class CommandRouter {
  private handlers: CommandHandlers = {};
  private readonly queue: IncomingRequest[] = [];
  private running = false;
  private lastDropLogMs = 0;
  private readonly policy: CommandPolicy;
  readonly counters = { ok: 0, errors: 0, dropped: 0 };

  constructor(
    private readonly topics: Topics,
    private readonly opts: CommandRouterOptions,
    private readonly respond: Responder,
    private readonly logger: Logger,
  ) {
    this.policy = opts.policy ?? new CommandPolicy({ enabled: true, allow: opts.allow ?? [] });
  }

  setHandlers(handlers: CommandHandlers): void {
    this.handlers = { ...this.handlers, ...handlers };
  }

  /** Queues a request; never throws. */
  enqueue(req: IncomingRequest): void {
    if (this.queue.length >= (this.opts.maxQueue ?? 64)) {
      this.counters.dropped++;
      const now = Date.now();
      if (now - this.lastDropLogMs > 10_000) {
        this.lastDropLogMs = now;
        this.logger.warn({ dropped: this.counters.dropped }, 'command queue full: requests dropped (flood?)');
      }
      return;
    }
    this.queue.push(req);
    if (!this.running) void this.drain();
  }

  /** Resolves when the queue is empty (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running || this.queue.length > 0) await new Promise((r) => setTimeout(r, 5));
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      for (let req = this.queue.shift(); req; req = this.queue.shift()) {
        try {
          await this.handleOne(req);
        } catch (err) {
          this.logger.error({ err: (err as Error).message }, 'command handling failed');
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** Parses, validates, authorises and runs one request, then publishes its response. */
  async handleOne(req: IncomingRequest): Promise<CommandResponse> {
    const request = this.topics.requestOf(req.topic);
    const rawCommand = request?.command ?? 'invalid';
    const command = /^[a-z0-9-]{1,64}$/.test(rawCommand) ? rawCommand : 'invalid';
    // the requester's own level: answered on its own response topic, judged by its own rule
    const client =
      request?.client !== undefined && CLIENT_LEVEL.test(request.client) ? request.client : undefined;
    const origin: RequestOrigin = { door: 'mqtt', ...(client !== undefined && { clientId: client }) };
    let transactionId: string | number | undefined;
    let response: CommandResponse;
    try {
      if (request?.client !== undefined && client === undefined)
        throw new CommandError(
          `request topic level "${request.client.slice(0, 64)}" is not a client id (letters, digits, _ . : @ -; at most 64)`,
        );
      const parsed = this.parse(command, req.payload, origin);
      transactionId = parsed.transactionId;
      const result = await this.run(command as CommandName, parsed.body, origin);
      response = {
        ok: true,
        command,
        ...(transactionId !== undefined && { transactionId }),
        result: result ?? null,
      };
      this.counters.ok++;
      this.logger.info({ command, transactionId, client }, 'command done');
    } catch (err) {
      transactionId ??= err instanceof CommandError ? err.transactionId : undefined;
      response = {
        ok: false,
        command,
        ...(transactionId !== undefined && { transactionId }),
        error: (err as Error).message,
      };
      this.counters.errors++;
      this.logger.warn({ command, transactionId, client, error: response.error }, 'command refused');
    }
    let topic = this.topics.response(command, client);
    if (req.responseTopic !== undefined) {
      if (this.topics.isAllowedResponseTopic(req.responseTopic, this.opts.responseTopics))
        topic = req.responseTopic;
      else {
        const refused = req.responseTopic.slice(0, 200);
        this.logger.warn(
          { command, transactionId, client, responseTopic: refused, answeredOn: topic },
          `MQTT 5 response topic "${refused}" refused: responses go only under ${this.topics.base}/response/ (or mqtt.commands.responseTopics)`,
        );
        // say on the default topic that the requested one was refused
        response = {
          ...response,
          warning: `response topic "${refused.slice(0, 80)}" refused; answered here`,
        };
      }
    }
    await this.respond(topic, response, req.correlationData).catch((err: Error) =>
      this.logger.warn({ command, err: err.message }, 'command response not published'),
    );
    return response;
  }

  private parse(
    command: string,
    payload: Buffer,
    origin: RequestOrigin,
  ): { transactionId?: string | number; body: Record<string, unknown> } {
    if (payload.length > this.opts.maxPayloadBytes) {
      throw new CommandError(
        `payload of ${payload.length} bytes exceeds mqtt.commands.maxPayloadBytes (${this.opts.maxPayloadBytes})`,
      );
    }
    let json: unknown;
    if (payload.length === 0) json = {};
    else {
      try {
        json = JSON.parse(payload.toString('utf8'));
      } catch (err) {
        throw new CommandError(`payload is not JSON: ${(err as Error).message}`);
      }
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw new CommandError('payload must be a JSON object');
    }
    const body = json as Record<string, unknown>;
    const tid = body.transactionId;
    const echoable =
      (typeof tid === 'string' && tid.length <= 128) || (typeof tid === 'number' && Number.isFinite(tid))
        ? tid
        : undefined;
    if (!(COMMAND_NAMES as readonly string[]).includes(command)) {
      throw new CommandError(`unknown command "${command}" (known: ${COMMAND_NAMES.join(', ')})`, echoable);
    }
    try {
      this.policy.check(command as CommandName, origin);
    } catch (err) {
      throw new CommandError((err as Error).message, echoable);
    }
    const result = commandSchemas[command as CommandName].safeParse(body);
    if (!result.success) {
      const problems = result.error.issues.map(
        (i) => `${i.path.length ? i.path.join('.') : '(payload)'}: ${i.message}`,
      );
      throw new CommandError(`invalid ${command} request: ${problems.join('; ')}`, echoable);
    }
    const data = result.data as Record<string, unknown>;
    if (
      typeof data.camera === 'string' &&
      this.opts.cameraIds &&
      !this.opts.cameraIds.includes(data.camera)
    ) {
      throw new CommandError(
        `unknown camera "${data.camera}" (known: ${this.opts.cameraIds.join(', ')})`,
        echoable,
      );
    }
    return { transactionId: echoable, body: data };
  }

  private async run(
    command: CommandName,
    body: Record<string, unknown>,
    origin: RequestOrigin,
  ): Promise<unknown> {
    const h = this.handlers;
    const missing = () => new Error(`command "${command}" is not available in this service`);
    switch (command) {
      case 'set-class':
        if (!h.setClass) throw missing();
        return h.setClass(body.camera as string, body.className as string, origin);
      case 'set-thresholds':
        if (!h.setThresholds) throw missing();
        return h.setThresholds(
          body.camera as string,
          body.thresholds as ThresholdsPatch,
          body.calibration as Calibration | undefined,
          origin,
        );
      case 'trigger':
        if (!h.trigger) throw missing();
        return h.trigger(body.camera as string, body.partId as string | undefined, origin);
      case 'status':
        if (!h.status) throw missing();
        return h.status(origin);
      case 'rebirth':
        if (!h.rebirth) throw missing();
        return h.rebirth(origin);
      case 'suspend':
        if (!h.suspend) throw missing();
        return h.suspend(
          body.camera as string,
          { durationS: body.durationS as number | undefined, comment: body.comment as string | undefined },
          origin,
        );
      case 'resume':
        if (!h.resume) throw missing();
        return h.resume(body.camera as string, origin);
      case 'reload':
        if (!h.reload) throw missing();
        return h.reload(origin);
      case 'load-bundle':
        if (!h.loadBundle) throw missing();
        return h.loadBundle(body.path as string, body.sha256 as string, origin);
    }
  }
}

/** A requester id that can be a topic level and a rule's key. */
const CLIENT_LEVEL = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$/;

class CommandError extends Error {
  constructor(
    message: string,
    readonly transactionId?: string | number,
  ) {
    super(message);
  }
}
