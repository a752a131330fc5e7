// The one source of truth for the service's settings. Everything optional has a default here;
// config/adaclip-edge.schema.json is generated from this file (npm run schema), never edited by hand.
import { z } from 'zod';
import { parseHash } from '../util/password-hash.js';
import { ACTION_NAMES, COMMAND_NAMES, DEFAULT_ALLOWED_COMMANDS } from './command-names.js';
import { silencingProblems } from './silencing.js';

const id = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'letters, digits, "_" or "-" (1-64 chars, MQTT-topic safe)');

export const roiSchema = z
  .object({
    x: z.number().int().min(0),
    y: z.number().int().min(0),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
  })
  .describe(
    'Region of interest in upright frame pixels (after `rotate`, which is applied first); the model sees only this crop',
  );

const syntheticSource = z.object({
  kind: z.literal('synthetic'),
  width: z.number().int().min(64).max(8192).default(1280),
  height: z.number().int().min(64).max(8192).default(720),
  fps: z.number().positive().max(240).default(5),
  defectRate: z.number().min(0).max(1).default(0.2).describe('fraction of parts rendered with a defect'),
  seed: z.number().int().default(1),
  frames: z.number().int().positive().optional().describe('stop after this many frames (default: endless)'),
  // the same names as src/sources/synthetic/scene.ts PART_KINDS (config sits below sources)
  kinds: z
    .array(z.enum(['nut', 'screw', 'pcb']))
    .min(1)
    .optional()
    .describe('part kinds on the line, each part one of them at random (default: nut, screw, pcb)'),
  partScale: z
    .number()
    .min(0.1)
    .max(0.6)
    .default(0.32)
    .describe("part size as a share of the frame's shorter side: the camera's zoom"),
});

const folderSource = z.object({
  kind: z.literal('folder'),
  path: z.string().min(1),
  pattern: z.string().default('*.{png,jpg,jpeg,bmp,tif,tiff}').describe('glob, matched case-insensitively'),
  loop: z.boolean().default(false),
  fps: z.number().positive().max(1000).optional().describe('pace the files; default: as fast as admitted'),
});

const videoCaptureSource = z.object({
  kind: z.literal('videocapture'),
  uri: z
    .union([z.string().min(1), z.number().int().min(0)])
    .describe('device index, file path, rtsp:// or http:// URL, or a GStreamer pipeline ending in appsink'),
  api: z.enum(['any', 'gstreamer', 'ffmpeg', 'v4l2']).default('any'),
  fps: z
    .number()
    .positive()
    .max(240)
    .optional()
    .describe('cap the read rate (default: as the camera delivers)'),
  loop: z.boolean().default(false).describe('a video file starts again at its end (demo, soak tests)'),
  stallTimeoutMs: z.number().int().positive().default(5000),
  reconnect: z
    .object({
      initialMs: z.number().int().positive().default(500),
      maxMs: z.number().int().positive().default(30000),
      jitter: z.number().min(0).max(1).default(0.2),
    })
    .prefault({}),
});

const triggerSource = z.object({
  kind: z.literal('trigger'),
  inner: z.discriminatedUnion('kind', [syntheticSource, folderSource, videoCaptureSource]),
  mqttTopic: z
    .string()
    .optional()
    .describe('a message here captures the next frame; payload may carry partId'),
  http: z.boolean().default(false).describe('also accept POST /api/cameras/<id>/trigger on the dashboard'),
  maxPending: z
    .number()
    .int()
    .positive()
    .max(100000)
    .default(32)
    .describe('triggers waiting for a frame at most; more are answered with verdict error'),
  captureTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(5000)
    .describe('a trigger without a frame this long after it arrived is answered with verdict error'),
  resultTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(60000)
    .describe('a trigger without a result this long after it arrived is answered with verdict error'),
});

export const sourceSchema = z.discriminatedUnion('kind', [
  syntheticSource,
  folderSource,
  videoCaptureSource,
  triggerSource,
]);

export const admissionSchema = z
  .object({
    policy: z
      .enum(['latest', 'keep-all', 'every-nth'])
      .default('latest')
      .describe('latest: live cameras, drop stale frames; keep-all: folders and offline runs'),
    everyNth: z.number().int().positive().default(1),
    queueSize: z.number().int().positive().max(10000).default(2),
    staleMs: z
      .number()
      .int()
      .positive()
      .default(2000)
      .describe('frames older than this at admission are dropped'),
  })
  .prefault({});

export const thresholdsSchema = z
  .object({
    image: z
      .number()
      .min(0)
      .max(1)
      .default(0.5)
      .describe('image score at or above which a frame is anomalous'),
    pixel: z
      .number()
      .min(0)
      .max(1)
      .default(0.5)
      .describe('smoothed-map value at or above which a pixel is defective'),
    clear: z.number().min(0).max(1).optional().describe('hysteresis: score below which an alarm clears'),
    minRegionAreaPct: z.number().min(0).max(100).default(0.05),
  })
  .prefault({});

export const calibrationSchema = z
  .object({
    at: z.iso.datetime().describe('when the thresholds were calibrated (UTC, ISO 8601)'),
    images: z.number().int().positive().describe('good images scored'),
    rule: z.string().min(1).max(200).describe('how the thresholds follow from the good scores'),
    targetFpr: z.number().gt(0).lt(1).describe('false-alarm rate aimed at (per image)'),
    falseAlarmRate: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe('share of those good images at or above thresholds.image'),
    bundle: z.string().optional().describe('the model bundle the scores came from'),
  })
  .describe(
    'written by `adaclip-edge calibrate --write`: how thresholds were last calibrated on good images (for people and the dashboard; nothing reads it to decide)',
  );

export const decisionSchema = z
  .object({
    k: z.number().int().positive().default(1).describe('anomalous in k of the last n frames raises an alarm'),
    n: z.number().int().positive().default(1),
    cooldownMs: z.number().int().min(0).default(0),
    severity: z
      .object({
        warning: z.number().min(0).max(1).default(0.5),
        critical: z.number().min(0).max(1).default(0.8),
      })
      .prefault({}),
  })
  .prefault({});

export const cameraSchema = z
  .object({
    id,
    className: z.string().min(1).max(128).describe('the product name the prompts describe, e.g. "screw"'),
    source: sourceSchema,
    roi: roiSchema.optional(),
    rotate: z.union([z.literal(0), z.literal(90), z.literal(180), z.literal(270)]).default(0),
    regionExtent: z
      .enum(['threshold', 'half-max'])
      .default('half-max')
      .describe(
        "what a region's box measures: half-max, its pixels at or above half its peak (tight on a small defect, whose smoothed halo reaches a low thresholds.pixel far around it); threshold, every pixel at or above thresholds.pixel",
      ),
    admission: admissionSchema,
    thresholds: thresholdsSchema,
    calibration: calibrationSchema.optional(),
    decision: decisionSchema,
    allowDisable: z
      .boolean()
      .default(false)
      .describe(
        'allow settings that silence this camera (thresholds.image or .pixel >= 1, minRegionAreaPct >= 100, decision.cooldownMs > 1 h), here and from every door at run time',
      ),
  })
  .superRefine((cam, ctx) => {
    const { k, n } = cam.decision;
    if (k > n)
      ctx.addIssue({
        code: 'custom',
        path: ['decision', 'k'],
        message: `at most n (${n}): ${k} of ${n} frames can never happen`,
      });
    if (cam.allowDisable) return;
    for (const p of silencingProblems(cam)) {
      if (p.key === 'decision.k') continue;
      ctx.addIssue({
        code: 'custom',
        path: p.key.split('.'),
        message: `${p.problem} (set allowDisable: true on this camera to allow it)`,
      });
    }
  });

const tlsSchema = z.object({
  ca: z.string().optional().describe('path of the CA certificate (PEM)'),
  cert: z.string().optional().describe('path of the client certificate (PEM)'),
  key: z.string().optional().describe('path of the client key (PEM)'),
  rejectUnauthorized: z.boolean().default(true),
  servername: z.string().optional(),
});

const clientRuleSchema = z
  .strictObject({
    clientId: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$/, 'letters, digits, _ . : @ - (1-64 chars, a topic level)')
      .optional(),
    user: z.string().min(1).max(128).optional(),
    allow: z
      .array(z.enum(ACTION_NAMES))
      .describe('what this client may run (acknowledge, review: dashboard users)'),
  })
  .refine((r) => (r.clientId === undefined) !== (r.user === undefined), 'exactly one of clientId and user');

export const mqttSchema = z
  .object({
    url: z
      .string()
      .regex(/^(mqtts?|wss?|tcp|ssl):\/\//, 'an mqtt://, mqtts://, ws:// or wss:// URL')
      .optional()
      .describe('broker URL; when absent an embedded broker is started in-process'),
    embedded: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(1883),
      })
      .prefault({}),
    clientId: z.string().min(1).max(64).optional(),
    protocolVersion: z
      .union([z.literal(4), z.literal(5)])
      .default(5)
      .describe('5 = MQTT 5, 4 = MQTT 3.1.1'),
    username: z.string().optional(),
    password: z.string().optional().describe('prefer ADACLIP_EDGE__MQTT__PASSWORD or passwordFile'),
    passwordFile: z.string().optional(),
    tls: tlsSchema.optional(),
    baseTopic: z
      .string()
      .regex(/^[^#+]+$/, 'a topic without wildcards')
      .default('adaclip-edge'),
    keepaliveS: z.number().int().positive().default(30),
    qos: z.union([z.literal(0), z.literal(1)]).default(1),
    outbox: z
      .object({
        path: z
          .string()
          .min(1)
          .default('outbox.sqlite')
          .describe('the SQLite file that makes events and results durable; relative: under stateDir'),
        maxEvents: z.number().int().positive().default(100000),
        overflow: z.enum(['drop-oldest', 'reject-new']).default('drop-oldest'),
        inflight: z.number().int().positive().max(1000).default(64),
        highWater: z
          .number()
          .int()
          .positive()
          .default(10000)
          .describe('GET /readyz is not ready while the broker is down and more documents than this wait'),
        drainTimeoutMs: z
          .number()
          .int()
          .min(0)
          .max(600000)
          .default(20000)
          .describe(
            'at the end (sources ended, SIGTERM) keep publishing until the outbox is empty or this long; what is left stays on disk, is published first at the next start, and makes the exit code 3',
          ),
      })
      .prefault({}),
    sparkplug: z
      .object({
        enabled: z.boolean().default(false),
        groupId: z.string().default('adaclip-edge'),
        edgeNodeId: z.string().optional().describe('default: <site>-<line>'),
        primaryHostId: z.string().optional().describe('wait for this host to be ONLINE before births'),
        bdSeqFile: z
          .string()
          .min(1)
          .default('sparkplug-bdseq.json')
          .describe('keeps the birth/death sequence number across restarts; relative: under stateDir'),
      })
      .prefault({}),
    commands: z
      .object({
        enabled: z
          .boolean()
          .default(true)
          .describe(
            'false: neither JSON commands nor Sparkplug DCMD writes are taken (the dashboard is not affected)',
          ),
        allow: z
          .array(z.enum(COMMAND_NAMES))
          .default([...DEFAULT_ALLOWED_COMMANDS])
          .describe(
            'what a requester without a rule of its own may run, as a JSON command or a Sparkplug DCMD write (class name: set-class, thresholds: set-thresholds, Control/Suspended: suspend/resume); load-bundle (a new model from a path) only when listed here',
          ),
        clients: z
          .array(clientRuleSchema)
          .max(1000)
          .default([])
          .describe(
            'per-client rules, in place of allow for that client: clientId matches the last level of <base>/request/<command>/<clientId> (bind it to the client with a broker ACL pattern, %c or %u) and, for DCMD writes, mqtt.sparkplug.primaryHostId; user matches a dashboard user',
          ),
        responseTopics: z
          .array(
            z
              .string()
              .min(1)
              .max(256)
              .regex(/^[^#+$][^#+]*$/, 'a topic prefix without wildcards, not a $ topic'),
          )
          .max(100)
          .default([])
          .describe(
            'MQTT 5 response topics allowed besides <base>/response/... (prefixes); any other is refused and logged',
          ),
        maxPayloadBytes: z.number().int().positive().default(4096),
      })
      .prefault({}),
    statsIntervalS: z.number().int().positive().default(60),
  })
  .prefault({});

export const modelSchema = z.object({
  bundle: z.string().min(1).describe('folder holding manifest.json, model.onnx and the vocabulary'),
  engine: z
    .object({
      backend: z.enum(['auto', 'onnxruntime', 'tensorrt']).default('auto'),
      providers: z
        .array(z.enum(['cpu', 'cuda', 'tensorrt']))
        .default(['cpu'])
        .describe('onnxruntime execution providers, in order of preference'),
      threads: z.number().int().min(0).default(0).describe('intra-op threads; 0 = onnxruntime default'),
      maxBatch: z.number().int().positive().max(64).default(4),
      precision: z.enum(['fp16', 'fp32']).default('fp16').describe('TensorRT engine precision'),
      engineCacheDir: z.string().optional().describe('default: beside model.onnx'),
    })
    .prefault({}),
  classNameCacheSize: z
    .number()
    .int()
    .min(1)
    .max(100000)
    .default(256)
    .describe(
      'class names whose prompt tokens are kept (least recently used go first): bounds what a flood of set-class requests costs',
    ),
  hsf: z
    .object({
      enabled: z.boolean().default(true),
      device: z.enum(['auto', 'cpu', 'gpu']).default('auto'),
      threads: z
        .number()
        .int()
        .min(0)
        .max(64)
        .default(0)
        .describe('threads of the native CPU HSF; 0 = min(2, cores)'),
    })
    .prefault({}),
});

const dashboardUser = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, 'letters, digits, ".", "_", "@" or "-" (1-64 chars)'),
  role: z.enum(['viewer', 'operator']).describe('viewer: sees everything; operator: also acts'),
  passwordHash: z
    .string()
    .superRefine((h, ctx) => {
      try {
        parseHash(h);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    })
    .describe('scrypt hash made by `adaclip-edge hash-password` ($scrypt$ln=...$salt$hash)'),
});

const dashboardSchema = z
  .object({
    enabled: z.boolean().default(true),
    host: z
      .string()
      .default('127.0.0.1')
      .describe('address to listen on; 127.0.0.1 keeps the dashboard on this machine'),
    port: z.number().int().min(0).max(65535).default(8080),
    publicUrl: z
      .string()
      .regex(/^https?:\/\/\S+$/, 'an http:// or https:// URL')
      .optional()
      .describe(
        'how people reach this dashboard (the fleet view links to it); default http://<host or hostname>:<port>',
      ),
    auth: z
      .enum(['users', 'none'])
      .default('users')
      .describe(
        'users: sign-in with dashboard.users (none configured: read-only, every change answers 401); none: anyone may act, for the demo only (the page says so)',
      ),
    users: z.array(dashboardUser).default([]),
    session: z
      .object({
        ttlH: z.number().positive().max(720).default(12).describe('a sign-in lasts at most this long'),
        idleMin: z.number().positive().max(43200).default(60).describe('ended after this long unused'),
        max: z
          .number()
          .int()
          .min(1)
          .max(10000)
          .default(200)
          .describe('sessions kept at most (the least recently used go first)'),
        secureCookie: z
          .boolean()
          .default(false)
          .describe('mark the cookie Secure: set it when the dashboard is reached over HTTPS (a TLS proxy)'),
      })
      .prefault({}),
    allowedHosts: z
      .array(z.string().min(1).max(253))
      .default([])
      .describe(
        'host names (without port) the browser may use besides IP addresses, localhost and this machine\'s name; "*" turns the Host check off (a proxy checks it)',
      ),
    maxLiveConnections: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(16)
      .describe('live-update streams (GET /api/stream) open at once; more are refused with 503'),
  })
  .superRefine((d, ctx) => {
    if (d.auth === 'none' && d.users.length > 0)
      ctx.addIssue({
        code: 'custom',
        path: ['users'],
        message: 'not used with dashboard.auth: none (anyone may act); remove the users or the auth: none',
      });
    const names = d.users.map((u) => u.name);
    if (new Set(names).size !== names.length)
      ctx.addIssue({ code: 'custom', path: ['users'], message: 'user names must be unique' });
  })
  .prefault({});

export const configSchema = z.object({
  site: id.default('site'),
  line: id.default('line'),
  stateDir: z
    .string()
    .min(1)
    .default('var')
    .describe(
      "the folder for everything the service writes (outbox, Sparkplug bdSeq, history, reviews, snapshots); relative: against the config file's folder, never the working directory. Checked for writing at start",
    ),
  log: z
    .object({
      level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
      pretty: z.enum(['auto', 'always', 'never']).default('auto'),
    })
    .prefault({}),
  model: modelSchema,
  cameras: z
    .array(cameraSchema)
    .min(1, 'at least one camera')
    .refine((cams) => new Set(cams.map((c) => c.id)).size === cams.length, 'camera ids must be unique'),
  pipeline: z
    .object({
      batchDeadlineMs: z.number().int().min(0).default(10).describe('wait this long to fill a batch'),
      maxInFlight: z
        .number()
        .int()
        .positive()
        .max(16)
        .default(1)
        .describe('engine calls in flight per device'),
      shutdownDrainMs: z.number().int().min(0).default(5000),
    })
    .prefault({}),
  mqtt: mqttSchema,
  snapshots: z
    .object({
      enabled: z.boolean().default(true),
      dir: z.string().min(1).default('snapshots').describe('relative: under stateDir'),
      maxCount: z.number().int().positive().default(1000),
      maxBytes: z
        .number()
        .int()
        .positive()
        .default(512 * 1024 * 1024),
      maxAgeH: z.number().positive().default(72),
      jpegQuality: z.number().int().min(10).max(100).default(85),
      results: z
        .enum(['all', 'ng', 'none'])
        .default('all')
        .describe('snapshots for inspection results of trigger cameras: every part, NG parts only, or none'),
    })
    .prefault({}),
  history: z
    .object({
      enabled: z.boolean().default(true),
      path: z
        .string()
        .min(1)
        .default('history.sqlite')
        .describe('SQLite file of results, events and operator actions; relative: under stateDir'),
      maxAgeH: z.number().positive().default(720).describe('results and events older than this are deleted'),
      maxRows: z
        .number()
        .int()
        .positive()
        .default(1000000)
        .describe('results, and events, kept at most each (the oldest go first)'),
      reviewsDir: z
        .string()
        .min(1)
        .default('reviews')
        .describe(
          'copies of reviewed frames, for `review export` (kept until deleted by hand); relative: under stateDir',
        ),
    })
    .prefault({}),
  dashboard: dashboardSchema,
});

export type Config = z.infer<typeof configSchema>;
export type CameraConfig = z.infer<typeof cameraSchema>;
export type SourceConfig = z.infer<typeof sourceSchema>;
export type MqttConfig = z.infer<typeof mqttSchema>;
export type ModelConfig = z.infer<typeof modelSchema>;
export type Calibration = z.infer<typeof calibrationSchema>;
