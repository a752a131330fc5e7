// A fleet on loopback, from real processes: a "central" Mosquitto (mutual-TLS listener for the
// bridges, a plain loopback listener for subscribers), one site Mosquitto per site running the
// shipped deploy/site/mosquitto.conf bridged to the central over TLS, and `adaclip-edge run`
// stations publishing to their site broker. Used by the fleet integration test and the fleet
// benchmarks, so both measure the same setup.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { Mosquitto, freePort } from './mosquitto.js';
import { LOOPBACK_SAN, createCa, issueCertificate, makeReadableByMosquitto } from './test-pki.js';
import { repoRoot } from '../util/paths.js';
import { loadOpenCV } from '../util/opencv.js';

const ROOT = repoRoot();
export const SITE_BROKER_CONF = join(ROOT, 'deploy', 'site', 'mosquitto.conf');
export const DEMO_BUNDLE = join(ROOT, 'models', 'bundles', 'demo-untrained');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns something other than undefined; the error names what and shows diag(). */
export async function waitUntil<T>(
  what: string,
  fn: () => T | undefined,
  timeoutMs: number,
  diag: () => string = () => '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${diag()}`);
    await sleep(100);
  }
}

/** A folder for Mosquitto's persistence, writable by the user it drops to when started as root. */
function persistenceDir(parent: string): string {
  const dir = join(parent, 'data');
  mkdirSync(dir);
  chmodSync(dir, 0o777);
  return dir;
}

/**
 * The shipped site-broker config with only what differs on loopback replaced: the stations
 * listener block (the spawner writes a loopback one), the persistence folder, the central's
 * address, the certificate paths and the example site id. Throws when a line it replaces is not
 * in the file, so a change to the shipped file cannot silently stop being tested.
 */
export function siteBrokerConfig(
  shipped: string,
  o: { siteId: string; centralTlsPort: number; pkiDir: string; persistenceDir: string },
): string[] {
  const replace = (text: string, what: RegExp, by: string): string => {
    if (!what.test(text))
      throw new Error(`${SITE_BROKER_CONF} no longer has ${what}: update the fleet helper`);
    return text.replace(what, by);
  };
  let t = shipped;
  t = replace(t, /^# --- Stations listener -+\n[\s\S]*?^# --- end of stations listener -+\n/m, '');
  t = replace(t, /^persistence_location .*$/m, `persistence_location ${o.persistenceDir}/`);
  t = replace(t, /^address .*$/m, `address 127.0.0.1:${o.centralTlsPort}`);
  t = replace(t, /^bridge_cafile .*$/m, `bridge_cafile ${join(o.pkiDir, 'ca.crt')}`);
  t = replace(t, /^bridge_certfile .*$/m, `bridge_certfile ${join(o.pkiDir, `${o.siteId}.crt`)}`);
  t = replace(t, /^bridge_keyfile .*$/m, `bridge_keyfile ${join(o.pkiDir, `${o.siteId}.key`)}`);
  t = replace(t, /\bsite-a\b/g, o.siteId);
  return t.split('\n');
}

/**
 * A folder of two images whose scores under the untrained demo model lie far apart (a white and a
 * black frame), and an image threshold halfway between them: a folder source over it alternates
 * anomalous and normal frames, so every frame raises or clears an alarm (k = n = 1), that is one
 * event per frame. The scores come from `adaclip-edge infer`, not from a number written here.
 */
export function alternatingImages(parent: string): { folder: string; threshold: number; scores: number[] } {
  const cv = loadOpenCV();
  const folder = join(parent, 'alternating');
  mkdirSync(folder);
  const files = [join(folder, '1-white.png'), join(folder, '2-black.png')];
  cv.imwrite(files[0], new cv.Mat(240, 320, cv.CV_8UC3, [255, 255, 255]));
  cv.imwrite(files[1], new cv.Mat(240, 320, cv.CV_8UC3, [0, 0, 0]));
  const out = execFileSync(
    process.execPath,
    [
      CLI,
      'infer',
      '--bundle',
      DEMO_BUNDLE,
      '--class',
      'screw',
      '--out',
      join(parent, 'infer'),
      '--json',
      ...files,
    ],
    { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const scores = out
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { score: number }).score);
  if (!(scores[0] - scores[1] > 0.1))
    throw new Error(`the two images score ${scores.join(' and ')}: too close to alternate reliably`);
  return { folder, threshold: (scores[0] + scores[1]) / 2, scores };
}

export interface StationSpec {
  siteId: string;
  lineId: string;
  /** YAML (flow style) of camera cam1's source. */
  source: string;
  /** Image threshold: between the scores of the two images, so each alternation is an event. */
  imageThreshold: number;
}

/** One `adaclip-edge run` process, its dashboard, and the event ids it reports as accepted. */
export class Station {
  readonly dir: string;
  proc?: ChildProcess;
  dashboardPort = 0;
  private csrf?: string;
  log = '';
  /** Ids of the events the service made durable, from its dashboard's event stream. */
  readonly acceptedIds = new Set<string>();
  /** Ids of the inspection results (trigger cameras) it made durable, from the same stream. */
  readonly acceptedResultIds = new Set<string>();
  private sse?: ReturnType<typeof request>;

  constructor(
    readonly spec: StationSpec,
    private readonly siteBrokerPort: number,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), `station-${spec.siteId}-`));
  }

  /** `<base>` of this station on its site broker, and as the central sees it through the bridge. */
  get localBase(): string {
    return `adaclip-edge/${this.spec.lineId}`;
  }
  get centralBase(): string {
    return `${this.spec.siteId}/adaclip-edge/${this.spec.lineId}`;
  }
  get url(): string {
    return `http://127.0.0.1:${this.dashboardPort}`;
  }

  async start(): Promise<void> {
    this.dashboardPort = await freePort();
    const s = this.spec;
    const cfg = join(this.dir, 'config.yaml');
    writeFileSync(
      cfg,
      `site: ${s.siteId}
line: ${s.lineId}
model:
  bundle: ${DEMO_BUNDLE}
  engine: { backend: onnxruntime, maxBatch: 2, threads: 1 }
  hsf: { threads: 1 }
cameras:
  - id: cam1
    className: screw
    source: ${s.source}
    admission: { policy: keep-all, queueSize: 64 }
    thresholds: { image: ${s.imageThreshold}, pixel: 0.99 }
mqtt:
  url: mqtt://127.0.0.1:${this.siteBrokerPort}
  clientId: adaclip-${s.siteId}-${s.lineId}
  baseTopic: ${this.localBase}
  outbox: { path: ${join(this.dir, 'outbox.sqlite')} }
  sparkplug: { enabled: true, groupId: ${s.siteId}, bdSeqFile: ${join(this.dir, 'bdseq.json')} }
  statsIntervalS: 5
snapshots: { enabled: false }
history: { path: ${join(this.dir, 'history.sqlite')} }
# the harness triggers over HTTP without signing in (a bench, on loopback only)
dashboard: { port: ${this.dashboardPort}, auth: none }
log: { level: info, pretty: never }
`,
    );
    const proc = spawn(process.execPath, [CLI, 'run', '--config', cfg], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    proc.stdout?.on('data', (d: Buffer) => (this.log += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (this.log += d.toString()));
    await waitUntil(
      `station ${s.siteId}/${s.lineId} to serve its dashboard`,
      () => {
        if (proc.exitCode !== null) throw new Error(`station exited with ${proc.exitCode}:\n${this.log}`);
        return this.log.includes('dashboard listening') ? true : undefined;
      },
      120_000,
      () => this.log,
    );
    await this.followAcceptedEvents();
  }

  /** Server-sent events from the dashboard: each event once it is durable in the outbox. */
  private followAcceptedEvents(): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = request(`${this.url}/api/stream`, (res) => {
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          let end;
          while ((end = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, end);
            buf = buf.slice(end + 2);
            const into = block.startsWith('event: anomaly\n')
              ? this.acceptedIds
              : block.startsWith('event: result\n')
                ? this.acceptedResultIds
                : undefined;
            if (!into) continue;
            const data = block.slice(block.indexOf('data: ') + 6);
            into.add((JSON.parse(data) as { id: string }).id);
          }
        });
        resolve();
      });
      req.on('error', (err) => (this.proc?.exitCode === null ? reject(err) : undefined));
      req.end();
      this.sse = req;
    });
  }

  /** Asks for the next part's frame (trigger sources with http: true); false when refused. */
  async trigger(partId: string): Promise<boolean> {
    // every state change carries the page's CSRF token, even with auth: none
    this.csrf ??= ((await (await fetch(`${this.url}/api/session`)).json()) as { csrf: string }).csrf;
    const res = await fetch(`${this.url}/api/cameras/cam1/trigger`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': this.csrf },
      body: JSON.stringify({ partId }),
    });
    await res.text();
    return res.ok;
  }

  /** A counter of the Prometheus text on /metrics, summed over its labels. */
  async metric(name: string): Promise<number> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    let sum = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith(name + '{') || line.startsWith(name + ' ')) sum += Number(line.split(' ').at(-1));
    }
    return sum;
  }

  async stop(): Promise<void> {
    this.sse?.destroy();
    const proc = this.proc;
    // killed by a signal: exitCode stays null, signalCode says it is gone
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      proc.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      proc.kill('SIGTERM');
    });
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A subscriber on the central with a persistent session (clean session off, fixed client id) that
 * counts, per id, every message on `<base>/+/event` and `<base>/+/result` of every station of every
 * site (the base is `<site>/adaclip-edge/<line>` there), and keeps the other topics it is given.
 */
export class CentralCounter {
  /** id -> how many times it arrived (QoS 1 allows more than once). */
  readonly received = new Map<string, number>();
  readonly idsByBase = new Map<string, Set<string>>();
  readonly kinds = { event: 0, result: 0 };
  readonly other: { topic: string; payload: string }[] = [];
  /** Messages on the counted topics whose payload has no string id (must stay 0). */
  malformed = 0;
  private client?: MqttClient;
  static readonly COUNTED = ['+/adaclip-edge/+/+/event', '+/adaclip-edge/+/+/result'];

  constructor(
    private readonly url: string,
    private readonly otherFilters: string[] = [],
  ) {}

  get messages(): number {
    let n = 0;
    for (const c of this.received.values()) n += c;
    return n;
  }
  get duplicates(): number {
    return this.messages - this.received.size;
  }

  async start(): Promise<void> {
    const client = mqtt.connect(this.url, {
      clientId: 'fleet-central-counter',
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: 200,
    });
    this.client = client;
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => {
        const filters = [...CentralCounter.COUNTED, ...this.otherFilters];
        client.subscribe(Object.fromEntries(filters.map((f) => [f, { qos: 1 as const }])), (err) =>
          err ? reject(err) : resolve(),
        );
      });
      client.once('error', reject);
    });
  }

  private onMessage(topic: string, payload: Buffer): void {
    const levels = topic.split('/');
    const kind = levels.at(-1);
    if (levels.length === 5 && levels[1] === 'adaclip-edge' && (kind === 'event' || kind === 'result')) {
      let id: unknown;
      try {
        id = (JSON.parse(payload.toString()) as { id?: unknown }).id;
      } catch {
        id = undefined;
      }
      if (typeof id !== 'string') {
        this.malformed++;
        return;
      }
      this.kinds[kind]++;
      this.received.set(id, (this.received.get(id) ?? 0) + 1);
      const base = levels.slice(0, 3).join('/');
      if (!this.idsByBase.has(base)) this.idsByBase.set(base, new Set());
      this.idsByBase.get(base)!.add(id);
      return;
    }
    this.other.push({ topic, payload: payload.toString() });
  }

  publish(topic: string, payload: string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.client!.publish(topic, payload, { qos: 1 }, (err) => (err ? reject(err) : resolve())),
    );
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.client?.end(true, {}, () => resolve()) ?? resolve());
  }
}

/** The central broker, the site brokers with their bridges, the stations and the PKI behind them. */
export class LoopbackFleet {
  readonly dir = mkdtempSync(join(tmpdir(), 'fleet-'));
  readonly pkiDir = join(this.dir, 'pki');
  central!: Mosquitto;
  centralTlsPort = 0;
  readonly sites: Mosquitto[] = [];
  readonly stations: Station[] = [];

  constructor(private readonly specs: { siteId: string; lineId: string }[]) {
    chmodSync(this.dir, 0o755); // mosquitto runs as its own user: it must reach the files below
  }

  /** Certificates, the central and every site broker (stations come with startStations). */
  async startBrokers(): Promise<void> {
    mkdirSync(this.pkiDir);
    createCa(this.pkiDir, 'ca');
    issueCertificate(this.pkiDir, { name: 'central', san: LOOPBACK_SAN, usage: 'serverAuth' });
    for (const s of this.specs) {
      // the bridge's certificate: its common name is its user name on the central
      issueCertificate(this.pkiDir, {
        name: s.siteId,
        cn: `bridge-${s.siteId}`,
        san: `subjectAltName=DNS:bridge-${s.siteId}`,
        usage: 'clientAuth',
      });
    }
    makeReadableByMosquitto(this.pkiDir);

    const plainPort = await freePort();
    this.centralTlsPort = await freePort();
    const centralDir = join(this.dir, 'central');
    mkdirSync(centralDir);
    // A stand-in for the central cluster: persistent sessions survive its restart, queues are
    // large enough for the outage the test makes, and bridges must show a certificate of our CA.
    this.central = new Mosquitto({
      port: plainPort,
      listenerConfig: [
        `listener ${plainPort} 127.0.0.1`,
        'allow_anonymous true',
        `listener ${this.centralTlsPort} 127.0.0.1`,
        `cafile ${join(this.pkiDir, 'ca.crt')}`,
        `certfile ${join(this.pkiDir, 'central.crt')}`,
        `keyfile ${join(this.pkiDir, 'central.key')}`,
        'require_certificate true',
        'use_identity_as_username true',
      ],
      extraConfig: [
        'persistence true',
        `persistence_location ${persistenceDir(centralDir)}/`,
        'max_queued_messages 1000000',
        'max_inflight_messages 100',
        'set_tcp_nodelay true',
      ],
    });
    await this.central.start();

    const shipped = readFileSync(SITE_BROKER_CONF, 'utf8');
    for (const s of this.specs) {
      const port = await freePort();
      const siteDir = join(this.dir, s.siteId);
      mkdirSync(siteDir);
      const broker = new Mosquitto({
        port,
        listenerConfig: [`listener ${port} 127.0.0.1`, 'allow_anonymous true'],
        extraConfig: siteBrokerConfig(shipped, {
          siteId: s.siteId,
          centralTlsPort: this.centralTlsPort,
          pkiDir: this.pkiDir,
          persistenceDir: persistenceDir(siteDir),
        }),
      });
      await broker.start();
      this.sites.push(broker);
    }
  }

  /** One station per site, each publishing to its own site broker; started one after the other. */
  async startStations(camera: { source: string; imageThreshold: number }): Promise<void> {
    for (const [i, s] of this.specs.entries()) {
      const station = new Station({ ...s, ...camera }, this.sites[i].port);
      this.stations.push(station);
      await station.start();
    }
  }

  get centralUrl(): string {
    return this.central.url;
  }

  /** Logs of every process, for a failure message. */
  diagnostics(): string {
    const tail = (s: string) => s.split('\n').slice(-40).join('\n');
    return [
      `--- central ---\n${tail(this.central?.log ?? '')}`,
      ...this.sites.map((b, i) => `--- site broker ${this.specs[i].siteId} ---\n${tail(b.log)}`),
      ...this.stations.map((s) => `--- station ${s.spec.siteId}/${s.spec.lineId} ---\n${tail(s.log)}`),
    ].join('\n');
  }

  async stop(): Promise<void> {
    await Promise.all(this.stations.map((s) => s.stop()));
    for (const b of this.sites) await b.stop();
    await this.central?.stop();
    for (const s of this.stations) s.remove();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
