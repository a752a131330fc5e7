// TLS and password authentication against a real Mosquitto with certificates made by openssl here:
// a CA, a server certificate for 127.0.0.1/localhost, a client certificate, and a second, unrelated
// CA for the "wrong CA" case. The password never appears in logs or error messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mqttSchema } from '../../src/config/schema.js';
import { resolveMqttSettings } from '../../src/mqtt/client-options.js';
import { MqttConnection } from '../../src/mqtt/connection.js';
import { captureLogger } from '../helpers/capture-logger.js';
import { Mosquitto, freePort } from '../helpers/mosquitto.js';
import { LOOPBACK_SAN, createCa, issueCertificate, makeReadableByMosquitto } from '../helpers/pki.js';

const PASSWORD = 'S3cret-pw-that-must-not-leak';

function makePki(dir: string): void {
  createCa(dir, 'ca');
  createCa(dir, 'other-ca');
  issueCertificate(dir, { name: 'server', san: LOOPBACK_SAN, usage: 'serverAuth' });
  issueCertificate(dir, { name: 'client', san: 'subjectAltName=DNS:edge-client', usage: 'clientAuth' });
  execFileSync('mosquitto_passwd', ['-b', '-c', join(dir, 'passwd'), 'edge', PASSWORD]);
  makeReadableByMosquitto(dir);
}

async function tlsBroker(
  t: { after: (fn: () => Promise<void> | void) => void },
  requireCertificate: boolean,
) {
  const dir = mkdtempSync(join(tmpdir(), 'mqtt-pki-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  makePki(dir);
  const port = await freePort();
  const broker = new Mosquitto({
    port,
    listenerConfig: [
      `listener ${port} 127.0.0.1`,
      `cafile ${join(dir, 'ca.crt')}`,
      `certfile ${join(dir, 'server.crt')}`,
      `keyfile ${join(dir, 'server.key')}`,
      `require_certificate ${requireCertificate}`,
      'allow_anonymous false',
      `password_file ${join(dir, 'passwd')}`,
    ],
  });
  await broker.start();
  t.after(() => broker.stop());
  return { dir, port };
}

function tryConnect(mqttSection: Record<string, unknown>) {
  const cap = captureLogger();
  const cfg = mqttSchema.parse(mqttSection);
  const conn = new MqttConnection(
    { settings: resolveMqttSettings(cfg), backoff: { initialMs: 200, maxMs: 1000 } },
    cap.logger,
  );
  conn.start();
  const outcome = async (): Promise<{ ok: boolean; error?: string }> => {
    const deadline = Date.now() + 8000;
    while (Date.now() < deadline) {
      if (conn.connected) return { ok: true };
      if (conn.lastError) return { ok: false, error: conn.lastError };
      await new Promise((r) => setTimeout(r, 20));
    }
    return { ok: false, error: 'no outcome' };
  };
  return { conn, cap, outcome };
}

test('TLS with the right CA and password connects; wrong password and wrong CA fail with clear errors', async (t) => {
  const { dir, port } = await tlsBroker(t, false);
  const url = `mqtts://127.0.0.1:${port}`;
  const base = { url, username: 'edge', tls: { ca: join(dir, 'ca.crt') } };

  const good = tryConnect({ ...base, password: PASSWORD });
  assert.deepEqual(await good.outcome(), { ok: true });
  await good.conn.stop();

  // password from a file, as deployments should do it
  writeFileSync(join(dir, 'pw.txt'), PASSWORD + '\n');
  const fromFile = tryConnect({ ...base, passwordFile: join(dir, 'pw.txt') });
  assert.deepEqual(await fromFile.outcome(), { ok: true });
  await fromFile.conn.stop();

  for (const protocolVersion of [5, 4]) {
    const wrongPw = tryConnect({ ...base, protocolVersion, password: 'not-the-password' });
    const r = await wrongPw.outcome();
    await wrongPw.conn.stop();
    assert.equal(r.ok, false);
    assert.match(
      r.error ?? '',
      /refused the connection: (bad username or password|not authorised).*mqtt\.password/,
      `MQTT ${protocolVersion}`,
    );
    assert.ok(!wrongPw.cap.text().includes('not-the-password'), 'password not in logs');
  }

  const wrongCa = tryConnect({ ...base, password: PASSWORD, tls: { ca: join(dir, 'other-ca.crt') } });
  const r = await wrongCa.outcome();
  await wrongCa.conn.stop();
  assert.equal(r.ok, false);
  assert.match(r.error ?? '', /not signed by a CA in mqtt\.tls\.ca/);

  for (const c of [good, fromFile, wrongCa])
    assert.ok(!c.cap.text().includes(PASSWORD), 'password not in logs');
});

test('require_certificate: a client certificate signed by the CA connects, none is refused', async (t) => {
  const { dir, port } = await tlsBroker(t, true);
  const url = `mqtts://127.0.0.1:${port}`;
  const base = { url, username: 'edge', password: PASSWORD };
  const withCert = tryConnect({
    ...base,
    tls: { ca: join(dir, 'ca.crt'), cert: join(dir, 'client.crt'), key: join(dir, 'client.key') },
  });
  assert.deepEqual(await withCert.outcome(), { ok: true });
  await withCert.conn.stop();

  const without = tryConnect({ ...base, tls: { ca: join(dir, 'ca.crt') } });
  const r = await without.outcome();
  await without.conn.stop();
  assert.equal(r.ok, false);
  assert.ok((r.error ?? '').length > 0);
});

test('missing TLS files and half a client certificate are configuration errors naming the key', () => {
  const parse = (m: Record<string, unknown>) => mqttSchema.parse({ url: 'mqtts://127.0.0.1:1', ...m });
  assert.throws(
    () => resolveMqttSettings(parse({ tls: { ca: '/nonexistent/ca.crt' } })),
    /mqtt\.tls\.ca: cannot read "\/nonexistent\/ca\.crt" \(ENOENT\)/,
  );
  assert.throws(
    () => resolveMqttSettings(parse({ tls: { cert: '/etc/hostname' } })),
    /needs both mqtt\.tls\.cert and mqtt\.tls\.key/,
  );
  assert.throws(
    () => resolveMqttSettings(parse({ username: 'u', passwordFile: '/nonexistent/pw' })),
    /mqtt\.passwordFile: cannot read/,
  );
  assert.throws(
    () => resolveMqttSettings(parse({ password: PASSWORD })),
    (err: Error) => /mqtt\.username/.test(err.message) && !err.message.includes(PASSWORD),
  );
  assert.throws(
    () => resolveMqttSettings(mqttSchema.parse({ url: 'mqtt://127.0.0.1:1', tls: {} })),
    /not a TLS URL/,
  );
});
