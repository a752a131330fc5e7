// The shipped brokers are secure as shipped: deploy/mosquitto/ (compose, one station) and
// deploy/site/ (the site broker the k8s stations use) run here with their own mosquitto.conf and
// aclfile, only addresses and file paths replaced (and the compose TLS example uncommented), and a
// password file made with mosquitto_passwd. An anonymous client cannot connect, so cannot publish
// a command; a known user without the right (and a wrong password) cannot; the service cannot
// publish outside its base topic and Sparkplug group; the configured operator can, but only under
// its own client id (<base>/request/<command>/<its id>), never under another's nor without one,
// and it reads only the answers addressed to its id. "Cannot" is what a subscriber allowed to read
// everything receives: nothing; each refusal is checked beside an allowed message sent after it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { ROOT } from '../helpers/fixtures.js';
import { Mosquitto, freePort } from '../helpers/mosquitto.js';
import { LOOPBACK_SAN, createCa, issueCertificate, makeReadableByMosquitto } from '../helpers/pki.js';
import { requireCommand } from '../helpers/require-tools.js';

const PASSWORDS: Record<string, string> = {
  'adaclip-edge': 'svc-Pw-1',
  operator: 'op-Pw-2',
  plc: 'plc-Pw-3',
  viewer: 'view-Pw-4',
  'adaclip-line-1': 'st1-Pw-5',
  'adaclip-line-2': 'st2-Pw-6',
  'operator-site-a': 'opsite-Pw-7',
  observer: 'obs-Pw-8',
};
const brokers: Mosquitto[] = [];
after(async () => {
  for (const b of brokers) await b.stop();
});

/** Replaces `what` in a shipped config; throws when the line is gone (the test would drift). */
function replace(text: string, what: RegExp, by: string): string {
  if (!what.test(text)) throw new Error(`shipped config no longer has ${what}`);
  return text.replace(what, by);
}

/** A password file with `users` (mosquitto_passwd) and the shipped ACL plus a read-all observer. */
function secrets(dir: string, aclFile: string, users: string[]): { passwd: string; acl: string } {
  requireCommand('mosquitto_passwd', 'mosquitto');
  const passwd = join(dir, 'passwd');
  writeFileSync(passwd, '');
  for (const u of [...users, 'observer']) execFileSync('mosquitto_passwd', ['-b', passwd, u, PASSWORDS[u]]);
  // the observer is the test's, not the deployment's: it only reads, to see what got through
  const acl = join(dir, 'aclfile');
  writeFileSync(acl, `${readFileSync(aclFile, 'utf8')}\nuser observer\ntopic read #\n`);
  return { passwd, acl };
}

async function connect(
  url: string,
  user: string | undefined,
  password?: string,
  tls?: { ca: string },
  clientId?: string,
): Promise<MqttClient | Error> {
  try {
    return await mqtt.connectAsync(url, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      clientId: clientId ?? `t-${user ?? 'anon'}-${Math.random().toString(16).slice(2, 8)}`,
      ...(user !== undefined ? { username: user, password: password ?? PASSWORDS[user] } : {}),
      ...(tls ? { ca: readFileSync(tls.ca), rejectUnauthorized: true } : {}),
    });
  } catch (err) {
    return err as Error;
  }
}

async function must(c: Promise<MqttClient | Error>): Promise<MqttClient> {
  const r = await c;
  if (r instanceof Error) throw r;
  return r;
}

/** Publishes at QoS 1; the broker's answer: 'accepted' or the PUBACK's reason code (135: not authorised). */
async function publish(client: MqttClient, topic: string, payload: string): Promise<'accepted' | number> {
  try {
    await client.publishAsync(topic, payload, { qos: 1 });
    return 'accepted';
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
}

/** What one client receives (the observer's `#`, or a user's own subscription under its ACL). */
class Observer {
  readonly seen: string[] = [];
  constructor(private readonly client: MqttClient) {
    client.on('message', (t, p) => this.seen.push(`${t} ${p.toString()}`));
  }
  static async open(url: string): Promise<Observer> {
    return Observer.on(await must(connect(url, 'observer')), '#');
  }
  /** `client` subscribed to `filter`: the broker delivers only what the client's ACL lets it read. */
  static async on(client: MqttClient, filter: string): Promise<Observer> {
    const granted = await client.subscribeAsync(filter, { qos: 1 });
    assert.ok(
      granted.every((g) => g.qos === 1),
      `${filter}: subscription granted ${JSON.stringify(granted)}`,
    );
    return new Observer(client);
  }
  /** Waits until `line` arrived; every message routed before it has arrived too (one broker). */
  async waitFor(line: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!this.seen.includes(line)) {
      if (Date.now() > deadline) throw new Error(`${line} never arrived; saw ${this.seen.join(' | ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  async close(): Promise<void> {
    await this.client.endAsync();
  }
}

/** Client ids of the requesters in the tests: X sends, Y is someone else. */
const X = 'line-lead';
const Y = 'scada-host';

test('compose broker: anonymous and unauthorised clients cannot command; the operator can; TLS example works', async (t) => {
  requireCommand('mosquitto', 'mosquitto');
  const dir = mkdtempSync(join(tmpdir(), 'deploy-mqtt-'));
  const src = join(ROOT, 'deploy', 'mosquitto');
  const { passwd, acl } = secrets(dir, join(src, 'aclfile'), ['adaclip-edge', 'operator', 'plc', 'viewer']);
  createCa(dir, 'ca');
  issueCertificate(dir, { name: 'broker', san: LOOPBACK_SAN, usage: 'serverAuth' });
  makeReadableByMosquitto(dir);
  mkdirSync(join(dir, 'data'));
  chmodSync(join(dir, 'data'), 0o777); // persistence, written by the broker's own user
  const [port, tlsPort] = [await freePort(), await freePort()];
  let conf = readFileSync(join(src, 'mosquitto.conf'), 'utf8');
  conf = replace(conf, /^password_file .*$/m, `password_file ${passwd}`);
  conf = replace(conf, /^acl_file .*$/m, `acl_file ${acl}`);
  conf = replace(conf, /^listener 1883 0\.0\.0\.0$/m, `listener ${port} 127.0.0.1`);
  conf = replace(conf, /^#listener 8883 0\.0\.0\.0$/m, `listener ${tlsPort} 127.0.0.1`);
  conf = replace(conf, /^#cafile .*$/m, `cafile ${join(dir, 'ca.crt')}`);
  conf = replace(conf, /^#certfile .*$/m, `certfile ${join(dir, 'broker.crt')}`);
  conf = replace(conf, /^#keyfile .*$/m, `keyfile ${join(dir, 'broker.key')}`);
  conf = replace(conf, /^#tls_version (.*)$/m, 'tls_version $1');
  conf = replace(conf, /^persistence_location .*$/m, `persistence_location ${join(dir, 'data')}/`);
  assert.match(conf, /^allow_anonymous false$/m, 'shipped without anonymous access');
  const broker = new Mosquitto({ port, config: conf });
  brokers.push(broker);
  await broker.start();
  const url = broker.url;
  const obs = await Observer.open(url);
  t.after(() => obs.close());

  // 1. anonymous: refused at connect, so it cannot publish anything
  const anon = await connect(url, undefined);
  assert.ok(anon instanceof Error, 'an anonymous client is refused');
  assert.match(String((anon as Error).message), /not authori[sz]ed|bad user name or password/i);
  // 2. a wrong password: refused as well
  const wrongPw = await connect(url, 'operator', 'guess');
  assert.ok(wrongPw instanceof Error, 'a wrong password is refused');
  // 3. known users without the right: the broker refuses their commands (MQTT 5: PUBACK 135)
  const viewer = await must(connect(url, 'viewer', undefined, undefined, 'viewer-1'));
  const plc = await must(connect(url, 'plc', undefined, undefined, 'plc-1'));
  const svc = await must(connect(url, 'adaclip-edge', undefined, undefined, 'adaclip-edge-station'));
  const cmd = JSON.stringify({ id: 'c1', cameraId: 'cam1', thresholds: { image: 1 } });
  for (const [who, c, id] of [
    ['viewer', viewer, 'viewer-1'],
    ['plc', plc, 'plc-1'],
    ['the service itself', svc, 'adaclip-edge-station'],
  ] as const) {
    assert.equal(await publish(c, 'adaclip-edge/request/set-thresholds', cmd), 135, `${who}: JSON command`);
    assert.equal(await publish(c, `adaclip-edge/request/set-thresholds/${X}`, cmd), 135, `${who}: as ${X}`);
    if (who !== 'the service itself') {
      // the request patterns apply to every user: these two are denied request topics outright
      assert.equal(await publish(c, `adaclip-edge/request/status/${id}`, cmd), 135, `${who}: as itself`);
    }
    assert.equal(
      await publish(c, 'spBv1.0/adaclip-edge/DCMD/station/cam1', 'x'),
      135,
      `${who}: Sparkplug DCMD`,
    );
    assert.equal(await publish(c, 'spBv1.0/adaclip-edge/NCMD/station', 'x'), 135, `${who}: Sparkplug NCMD`);
  }
  // 4. the service publishes under its base topic and Sparkplug group only
  assert.equal(await publish(svc, 'adaclip-edge/cam1/event', 'ev'), 'accepted');
  assert.equal(await publish(svc, 'spBv1.0/adaclip-edge/NBIRTH/station', 'nb'), 'accepted');
  assert.equal(await publish(svc, 'other-app/cam1/event', 'x'), 135, 'outside its base topic');
  assert.equal(await publish(svc, 'spBv1.0/other-group/NBIRTH/station', 'x'), 135, 'another Sparkplug group');
  assert.equal(await publish(plc, 'plc/cam1/trigger', 'P-1'), 'accepted', 'the PLC triggers');
  // 5. the configured operator's commands go through under its own client id, over plain MQTT and
  // over TLS; the service, reading with its own rights, gets exactly those
  const inbox = await Observer.on(
    await must(connect(url, 'adaclip-edge', undefined, undefined, 'adaclip-edge-reader')),
    'adaclip-edge/request/#',
  );
  const op = await must(connect(url, 'operator', undefined, undefined, X));
  assert.equal(await publish(op, 'adaclip-edge/request/set-thresholds', cmd), 135, 'no client id');
  assert.equal(await publish(op, `adaclip-edge/request/set-thresholds/${Y}`, cmd), 135, "another's id");
  assert.equal(await publish(op, `adaclip-edge/request/set-thresholds/${X}/more`, cmd), 135, 'a level more');
  assert.equal(await publish(op, `adaclip-edge/request/set-thresholds/${X}`, cmd), 'accepted', 'its own id');
  assert.equal(await publish(op, 'spBv1.0/adaclip-edge/DCMD/station/cam1', 'dcmd'), 'accepted');
  const opTls = await must(
    connect(`mqtts://127.0.0.1:${tlsPort}`, 'operator', undefined, { ca: join(dir, 'ca.crt') }, Y),
  );
  assert.equal(await publish(opTls, `adaclip-edge/request/status/${X}`, 'tls'), 135, "X's id from Y");
  assert.equal(await publish(opTls, `adaclip-edge/request/status/${Y}`, 'tls'), 'accepted');
  const anonTls = await connect(`mqtts://127.0.0.1:${tlsPort}`, undefined, undefined, {
    ca: join(dir, 'ca.crt'),
  });
  assert.ok(anonTls instanceof Error, 'anonymous over TLS is refused too');
  await obs.waitFor(`adaclip-edge/request/status/${Y} tls`);
  await inbox.waitFor(`adaclip-edge/request/status/${Y} tls`);
  assert.deepEqual(inbox.seen, [
    `adaclip-edge/request/set-thresholds/${X} ${cmd}`,
    `adaclip-edge/request/status/${Y} tls`,
  ]);
  // what reached the broker's subscribers, in order: exactly the allowed messages
  assert.deepEqual(obs.seen, [
    'adaclip-edge/cam1/event ev',
    'spBv1.0/adaclip-edge/NBIRTH/station nb',
    'plc/cam1/trigger P-1',
    `adaclip-edge/request/set-thresholds/${X} ${cmd}`,
    'spBv1.0/adaclip-edge/DCMD/station/cam1 dcmd',
    `adaclip-edge/request/status/${Y} tls`,
  ]);

  // 6. answers: the operator as X reads its own and what the service publishes, not Y's answers
  const opInbox = await Observer.on(op, 'adaclip-edge/#');
  assert.equal(await publish(svc, `adaclip-edge/response/status/${Y}`, 'for-Y'), 'accepted');
  assert.equal(await publish(svc, 'adaclip-edge/response/status', 'for-nobody'), 'accepted');
  assert.equal(await publish(svc, 'adaclip-edge/info', 'info'), 'accepted');
  assert.equal(await publish(svc, 'adaclip-edge/cam1/state', 'st'), 'accepted');
  assert.equal(await publish(svc, `adaclip-edge/response/status/${X}`, 'for-X'), 'accepted');
  await opInbox.waitFor(`adaclip-edge/response/status/${X} for-X`);
  assert.deepEqual(opInbox.seen, [
    'adaclip-edge/info info',
    'adaclip-edge/cam1/state st',
    `adaclip-edge/response/status/${X} for-X`,
  ]);
  // the patterns apply to every user: the service itself could address a request to itself only
  assert.equal(await publish(svc, 'adaclip-edge/request/status/adaclip-edge-station', 'self'), 'accepted');
  await inbox.waitFor('adaclip-edge/request/status/adaclip-edge-station self');
  for (const c of [viewer, plc, svc, op, opTls]) await c.endAsync();
  await inbox.close();
});

test('site broker: stations publish only under their own base topic; only the site operator commands', async (t) => {
  requireCommand('mosquitto', 'mosquitto');
  const dir = mkdtempSync(join(tmpdir(), 'deploy-site-'));
  const src = join(ROOT, 'deploy', 'site');
  const users = ['adaclip-line-1', 'adaclip-line-2', 'operator-site-a'];
  const { passwd, acl } = secrets(dir, join(src, 'aclfile'), users);
  createCa(dir, 'site-ca');
  issueCertificate(dir, { name: 'site-broker', san: LOOPBACK_SAN, usage: 'serverAuth', ca: 'site-ca' });
  makeReadableByMosquitto(dir);
  mkdirSync(join(dir, 'data'));
  chmodSync(join(dir, 'data'), 0o777); // persistence, written by the broker's own user
  const port = await freePort();
  let conf = readFileSync(join(src, 'mosquitto.conf'), 'utf8');
  conf = replace(conf, /^listener 8883$/m, `listener ${port} 127.0.0.1`);
  conf = replace(conf, /^cafile .*$/m, `cafile ${join(dir, 'site-ca.crt')}`);
  conf = replace(conf, /^certfile .*$/m, `certfile ${join(dir, 'site-broker.crt')}`);
  conf = replace(conf, /^keyfile .*$/m, `keyfile ${join(dir, 'site-broker.key')}`);
  conf = replace(conf, /^password_file .*$/m, `password_file ${passwd}`);
  conf = replace(conf, /^acl_file .*$/m, `acl_file ${acl}`);
  conf = replace(conf, /^persistence_location .*$/m, `persistence_location ${join(dir, 'data')}/`);
  // no central here: the bridge section goes (fleet-bridge.test.ts runs it)
  conf = replace(conf, /^# --- Bridge to the central cluster -+\n[\s\S]*$/m, '');
  const broker = new Mosquitto({ port, config: conf });
  brokers.push(broker);
  await broker.start();
  const url = `mqtts://127.0.0.1:${port}`;
  const tls = { ca: join(dir, 'site-ca.crt') };
  const obsClient = await must(connect(url, 'observer', undefined, tls));
  await obsClient.subscribeAsync('#', { qos: 1 });
  const obs = new Observer(obsClient);
  t.after(() => obs.close());

  assert.ok((await connect(url, undefined, undefined, tls)) instanceof Error, 'anonymous refused');
  const st1 = await must(connect(url, 'adaclip-line-1', undefined, tls, 'adaclip-site-a-line-1'));
  const st2 = await must(connect(url, 'adaclip-line-2', undefined, tls, 'adaclip-site-a-line-2'));
  const op = await must(connect(url, 'operator-site-a', undefined, tls, X));
  // station line-2 reads its requests with its own rights
  const inbox2 = await Observer.on(
    await must(connect(url, 'adaclip-line-2', undefined, tls, 'adaclip-site-a-line-2-reader')),
    'adaclip-edge/line-2/request/#',
  );
  assert.equal(await publish(st1, 'adaclip-edge/line-1/cam1/event', 'e1'), 'accepted');
  assert.equal(await publish(st1, 'spBv1.0/site-a/NBIRTH/site-a-line-1', 'nb1'), 'accepted');
  assert.equal(await publish(st1, 'adaclip-edge/line-2/cam1/event', 'x'), 135, "another station's topic");
  assert.equal(await publish(st1, 'spBv1.0/site-a/NBIRTH/site-a-line-2', 'x'), 135, "another station's node");
  assert.equal(await publish(st1, 'adaclip-edge/line-2/request/set-class', 'x'), 135, 'a station commands');
  assert.equal(
    await publish(st1, 'adaclip-edge/line-2/request/set-class/adaclip-site-a-line-1', 'x'),
    135,
    'a station commands another under its own id',
  );
  assert.equal(await publish(st1, `adaclip-edge/line-2/request/set-class/${X}`, 'x'), 135, `... or as ${X}`);
  assert.equal(await publish(st1, 'spBv1.0/site-a/DCMD/site-a-line-2/cam1', 'x'), 135, 'a station DCMD');
  assert.equal(await publish(st2, 'adaclip-edge/line-2/cam1/event', 'e2'), 'accepted');
  assert.equal(await publish(op, 'adaclip-edge/line-2/request/set-class', 'c'), 135, 'no client id');
  assert.equal(await publish(op, `adaclip-edge/line-2/request/set-class/${Y}`, 'c'), 135, "another's id");
  assert.equal(
    await publish(op, `adaclip-edge/line-2/request/set-class/${X}`, 'c'),
    'accepted',
    'its own id',
  );
  assert.equal(await publish(op, 'spBv1.0/site-a/DCMD/site-a-line-1/cam1', 'd'), 'accepted');
  await obs.waitFor('spBv1.0/site-a/DCMD/site-a-line-1/cam1 d');
  await inbox2.waitFor(`adaclip-edge/line-2/request/set-class/${X} c`);
  assert.deepEqual(inbox2.seen, [`adaclip-edge/line-2/request/set-class/${X} c`]);
  assert.deepEqual(obs.seen, [
    'adaclip-edge/line-1/cam1/event e1',
    'spBv1.0/site-a/NBIRTH/site-a-line-1 nb1',
    'adaclip-edge/line-2/cam1/event e2',
    `adaclip-edge/line-2/request/set-class/${X} c`,
    'spBv1.0/site-a/DCMD/site-a-line-1/cam1 d',
  ]);
  // answers: the operator as X reads its own and what the stations publish, not Y's answers
  const opInbox = await Observer.on(op, 'adaclip-edge/#');
  assert.equal(await publish(st2, `adaclip-edge/line-2/response/set-class/${Y}`, 'for-Y'), 'accepted');
  assert.equal(await publish(st2, 'adaclip-edge/line-2/info', 'info2'), 'accepted');
  assert.equal(await publish(st2, `adaclip-edge/line-2/response/set-class/${X}`, 'for-X'), 'accepted');
  await opInbox.waitFor(`adaclip-edge/line-2/response/set-class/${X} for-X`);
  assert.deepEqual(opInbox.seen, [
    'adaclip-edge/line-2/info info2',
    `adaclip-edge/line-2/response/set-class/${X} for-X`,
  ]);
  for (const c of [st1, st2, op]) await c.endAsync();
  await inbox2.close();
});
