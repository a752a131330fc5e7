// One rule for every door, on the running service (the real CLI, a real Mosquitto): the command
// policy of mqtt.commands (allow-list, per-client rules, enabled) and the refusal of settings that
// would silence a camera apply the same way to MQTT JSON commands, Sparkplug B DCMD writes (encoded
// here with our own protobuf schema) and the dashboard's HTTP API (signed-in users, one of them
// with a rule of its own); MQTT 5 response topics outside <base>/response/ are refused and named
// in the log; with mqtt.commands.enabled false a DCMD write changes nothing.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { signIn, userEntry } from '../helpers/dashboard-session.js';
import { Mosquitto, freePort } from '../helpers/mosquitto.js';
import { ROOT } from '../helpers/fixtures.js';
import { DT, encodeSparkplug } from './sparkplug-proto.js';

const BUNDLE = join(ROOT, 'models', 'bundles', 'demo-untrained');
const children: ChildProcess[] = [];
after(() => children.forEach((c) => c.kill('SIGKILL')));

interface Msg {
  topic: string;
  payload: string;
}

/** Two dashboard operators: the line lead, and a trainee whose rule lets them acknowledge only. */
const users = () => `
    ${userEntry('lead', 'operator', 'lead-password-1')}
    ${userEntry('trainee', 'operator', 'trainee-password-1')}`;

function config(dir: string, url: string, port: number, commands: string, dashboardUsers: string): string {
  const file = join(dir, `cfg-${port}.yaml`);
  const camera = (id: string, extra = '') => `
  - id: ${id}
    className: screw${extra}
    source: { kind: trigger, inner: { kind: synthetic, width: 160, height: 120, fps: 5 } }
    thresholds: { image: 0.5, pixel: 0.5 }`;
  writeFileSync(
    file,
    `model: { bundle: ${BUNDLE}, engine: { backend: onnxruntime } }
cameras:${camera('press')}${camera('gate', '\n    allowDisable: true')}
mqtt:
  url: ${url}
  baseTopic: doors
  outbox: { path: ${join(dir, `outbox-${port}.sqlite`)} }
  commands: ${commands}
  sparkplug: { enabled: true, groupId: doors, edgeNodeId: edge1, primaryHostId: scada-host, bdSeqFile: ${join(dir, `bdseq-${port}.json`)} }
history: { path: ${join(dir, `history-${port}.sqlite`)} }
snapshots: { dir: ${join(dir, 'snaps')} }
dashboard:
  port: ${port}
  users:${dashboardUsers}
log: { pretty: never }
`,
  );
  return file;
}

class Run {
  out = '';
  readonly proc: ChildProcess;
  constructor(cfg: string) {
    this.proc = spawn(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), 'run', '--config', cfg], {
      cwd: ROOT,
    });
    children.push(this.proc);
    this.proc.stdout?.on('data', (d: Buffer) => (this.out += d.toString()));
    this.proc.stderr?.on('data', (d: Buffer) => (this.out += d.toString()));
  }
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGTERM');
    const late = setTimeout(() => this.proc.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(late);
  }
}

async function observer(url: string): Promise<{ client: MqttClient; messages: Msg[] }> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 5 });
  const messages: Msg[] = [];
  client.on('message', (topic, payload) => messages.push({ topic, payload: payload.toString() }));
  await client.subscribeAsync(['doors/#', 'spBv1.0/doors/#'], { qos: 1 });
  // the primary host: births (and DCMDs) only once it is online
  await client.publishAsync(
    'spBv1.0/STATE/scada-host',
    JSON.stringify({ online: true, timestamp: Date.now() }),
    { qos: 1, retain: true },
  );
  return { client, messages };
}

async function waitFor<T>(
  what: string,
  fn: () => T | undefined,
  diag: () => string,
  ms = 90_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${diag()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test(
  'the command policy and the silencing rule hold alike at every door',
  { timeout: 300_000 },
  async (t) => {
    assert.ok(
      existsSync(join(BUNDLE, 'manifest.json')),
      `demo bundle missing at ${BUNDLE}: run scripts/setup.sh`,
    );
    const broker = new Mosquitto();
    await broker.start();
    const dir = mkdtempSync(join(tmpdir(), 'doors-'));
    const port = await freePort();
    const { client, messages } = await observer(broker.url);
    const runs: Run[] = [];
    // one clean-up, in order: the services, the retained STATE, the observer, the broker
    t.after(async () => {
      for (const r of runs) await r.stop();
      await Promise.race([
        client.publishAsync('spBv1.0/STATE/scada-host', '', { qos: 1, retain: true }),
        new Promise((r) => setTimeout(r, 2000)),
      ]);
      client.end(true);
      await broker.stop();
    });
    const dashboardUsers = users();
    const svc = new Run(
      config(
        dir,
        broker.url,
        port,
        `{ allow: [status, set-class], clients: [{ clientId: line-lead, allow: [status, set-class, set-thresholds, suspend, resume] }, { clientId: scada-host, allow: [set-class, set-thresholds] }, { user: trainee, allow: [acknowledge] }] }`,
        dashboardUsers,
      ),
    );
    runs.push(svc);
    const diag = () => svc.out;
    const last = (topic: string) => [...messages].reverse().find((m) => m.topic === topic);
    const state = (cam: string) =>
      JSON.parse(last(`doors/${cam}/state`)?.payload ?? '{}') as {
        className?: string;
        status?: string;
        thresholds?: { image: number; pixel: number };
      };
    let tx = 0;
    const request = async (command: string, body: object, client?: string) => {
      const id = `tx-${++tx}`;
      const topic = `doors/request/${command}${client ? `/${client}` : ''}`;
      await mqttPublish(topic, JSON.stringify({ transactionId: id, ...body }));
      const answerOn = `doors/response/${command}${client ? `/${client}` : ''}`;
      const m = await waitFor(
        `the response to ${id} on ${answerOn}`,
        () => messages.find((x) => x.topic === answerOn && x.payload.includes(`"${id}"`)),
        diag,
      );
      return JSON.parse(m.payload) as { ok: boolean; error?: string; warning?: string };
    };
    const mqttPublish = (topic: string, payload: string | Buffer) =>
      client.publishAsync(topic, payload, { qos: 1 });
    const dcmd = (cam: string, metrics: Parameters<typeof encodeSparkplug>[0]['metrics']) =>
      mqttPublish(`spBv1.0/doors/DCMD/edge1/${cam}`, encodeSparkplug({ timestamp: Date.now(), metrics }));
    const image = (v: number) => ({ name: 'Config/Thresholds/Image', datatype: DT.Double, double_value: v });
    const className = (v: string) => ({ name: 'Config/Class Name', datatype: DT.String, string_value: v });
    /** DCMDs run in order: once this class name is in the state, every earlier DCMD was handled. */
    const dcmdBarrier = async (cam: string, name: string) => {
      await dcmd(cam, [className(name)]);
      await waitFor(
        `class ${name} from a DCMD`,
        () => (state(cam).className === name ? true : undefined),
        diag,
      );
    };
    const http = async (user: 'lead' | 'trainee', path: string, body: unknown) => {
      const session = await signIn(`http://127.0.0.1:${port}`, user, `${user}-password-1`);
      const r = await session.post(path, body);
      return { status: r.status, body: (await r.json()) as { error?: string } };
    };

    try {
      await waitFor(
        'the service online',
        () => (last('doors/availability')?.payload === 'online' ? true : undefined),
        diag,
      );
      await waitFor('the DBIRTH of press', () => last('spBv1.0/doors/DBIRTH/edge1/press'), diag);
      await waitFor('the state of press', () => last('doors/press/state'), diag);

      // --- the allow-list and the per-client rules: MQTT JSON ---
      const anon = await request('set-thresholds', { camera: 'press', thresholds: { image: 0.7 } });
      assert.equal(anon.ok, false);
      assert.match(anon.error ?? '', /not allowed over MQTT \(mqtt\.commands\.allow\)/);
      const lead = await request(
        'set-thresholds',
        { camera: 'press', thresholds: { image: 0.7 } },
        'line-lead',
      );
      assert.equal(lead.ok, true, lead.error);
      await waitFor(
        'image 0.7 in the state',
        () => (state('press').thresholds?.image === 0.7 ? true : undefined),
        diag,
      );
      const anonSuspend = await request('suspend', { camera: 'press' });
      assert.match(anonSuspend.error ?? '', /mqtt\.commands\.allow/);

      // --- the same rule at the Sparkplug door: scada-host may set thresholds, not suspend ---
      await dcmd('press', [image(0.8)]);
      await waitFor(
        'image 0.8 from a DCMD',
        () => (state('press').thresholds?.image === 0.8 ? true : undefined),
        diag,
      );
      await dcmd('press', [
        image(0.6),
        { name: 'Control/Suspended', datatype: DT.Boolean, boolean_value: true },
      ]);
      await dcmdBarrier('press', 'nut');
      assert.equal(state('press').thresholds?.image, 0.8, 'a DCMD with a refused part changes nothing');
      assert.notEqual(state('press').status, 'suspended');
      assert.match(
        svc.out,
        /"suspend\\" is not allowed for client \\"scada-host\\" over Sparkplug DCMD \(mqtt\.commands\.clients\[1\]\.allow\)/,
      );

      // --- settings that would silence a camera: refused at every door, unless allowDisable ---
      const silence = await request(
        'set-thresholds',
        { camera: 'press', thresholds: { image: 1 } },
        'line-lead',
      );
      assert.equal(silence.ok, false);
      assert.match(silence.error ?? '', /would silence the camera.*allowDisable/);
      await dcmd('press', [{ name: 'Config/Thresholds/Pixel', datatype: DT.Double, double_value: 1 }]);
      await dcmdBarrier('press', 'bolt');
      assert.equal(state('press').thresholds?.pixel, 0.5, 'pixel 1 over DCMD changed nothing');
      assert.match(svc.out, /pixel 1 would silence the camera's regions/);
      const web = await http('lead', '/api/cameras/press/thresholds', { image: 1 });
      assert.equal(web.status, 400);
      assert.match(web.body.error ?? '', /would silence the camera.*allowDisable/);
      assert.equal((await http('lead', '/api/cameras/press/thresholds', { image: 0.65 })).status, 200);
      await waitFor(
        'image 0.65 from the dashboard',
        () => (state('press').thresholds?.image === 0.65 ? true : undefined),
        diag,
      );
      // a per-user rule narrows what a dashboard operator may do, like a client rule over MQTT
      const trainee = await http('trainee', '/api/cameras/press/thresholds', { image: 0.7 });
      assert.equal(trainee.status, 403);
      assert.match(
        trainee.body.error ?? '',
        /not allowed for dashboard user "trainee" \(mqtt\.commands\.clients\[2\]\.allow\)/,
      );
      assert.equal((await http('trainee', '/api/cameras/press/suspend', {})).status, 403);
      assert.equal(state('press').thresholds?.image, 0.65, "the trainee's refused change changed nothing");
      assert.notEqual(state('press').status, 'suspended');
      // the camera whose config says allowDisable: true may be silenced, from any door
      const gate = await request('set-thresholds', { camera: 'gate', thresholds: { image: 1 } }, 'line-lead');
      assert.equal(gate.ok, true, gate.error);
      await dcmd('gate', [{ name: 'Config/Thresholds/Pixel', datatype: DT.Double, double_value: 1 }]);
      await waitFor(
        'gate pixel 1 from a DCMD',
        () => (state('gate').thresholds?.pixel === 1 ? true : undefined),
        diag,
      );

      // --- MQTT 5 response topics: only under doors/response/ ---
      const id = 'tx-elsewhere';
      await client.publishAsync('doors/request/status', JSON.stringify({ transactionId: id }), {
        qos: 1,
        properties: { responseTopic: 'elsewhere/inbox', correlationData: Buffer.from('c1') },
      });
      const answered = await waitFor(
        'the status answer',
        () => messages.find((m) => m.topic === 'doors/response/status' && m.payload.includes(id)),
        diag,
      );
      assert.match(answered.payload, /"warning":"response topic \\"elsewhere\/inbox\\" refused/);
      assert.ok(!messages.some((m) => m.topic.startsWith('elsewhere/')));
      await waitFor(
        'the refusal in the log',
        () => (/elsewhere\/inbox/.test(svc.out) ? true : undefined),
        diag,
      );
      assert.match(svc.out, /MQTT 5 response topic \\"elsewhere\/inbox\\" refused/);
    } finally {
      await svc.stop();
    }

    // --- mqtt.commands.enabled: false: DCMD writes change nothing either ---
    const port2 = await freePort();
    const off = new Run(config(dir, broker.url, port2, '{ enabled: false }', dashboardUsers));
    runs.push(off);
    const offDiag = () => off.out;
    await waitFor(
      'the second service online',
      () => (/"msg":"inspecting"/.test(off.out) ? true : undefined),
      offDiag,
    );
    await waitFor(
      'its NBIRTH',
      () => (messages.filter((m) => m.topic === 'spBv1.0/doors/NBIRTH/edge1').length >= 2 ? true : undefined),
      offDiag,
    );
    await client.publishAsync(
      'spBv1.0/doors/DCMD/edge1/press',
      encodeSparkplug({
        timestamp: Date.now(),
        metrics: [{ name: 'Config/Thresholds/Image', datatype: DT.Double, double_value: 0.9 }],
      }),
      { qos: 1 },
    );
    await waitFor(
      'the refused DCMD in the log',
      () => (/DCMD write ignored/.test(off.out) ? true : undefined),
      offDiag,
    );
    assert.match(off.out, /commands over Sparkplug DCMD are disabled \(mqtt\.commands\.enabled: false\)/);
    assert.doesNotMatch(off.out, /"msg":"camera settings changed"/);
  },
);
