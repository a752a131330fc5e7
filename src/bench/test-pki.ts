// Test certificates made with openssl (apt openssl): certificate authorities and certificates they
// sign, for TLS brokers, clients and bridges in the integration tests and benchmarks. RSA 2048,
// valid for two days; a missing openssl fails the caller.
import { execFileSync } from 'node:child_process';
import { chmodSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A self-signed CA: `<name>.crt` and `<name>.key` in dir. */
export function createCa(dir: string, name: string): void {
  openssl(
    dir,
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
  );
}

export interface CertificateRequest {
  /** File names `<name>.crt` / `<name>.key`, and the common name unless `cn` is given. */
  name: string;
  cn?: string;
  /** e.g. "subjectAltName=IP:127.0.0.1,DNS:localhost" */
  san: string;
  usage: 'serverAuth' | 'clientAuth';
  /** The signing CA's name (default "ca"). */
  ca?: string;
}

/** A certificate signed by a CA made with createCa. */
export function issueCertificate(dir: string, r: CertificateRequest): void {
  const ca = r.ca ?? 'ca';
  openssl(
    dir,
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    `/CN=${r.cn ?? r.name}`,
    '-keyout',
    `${r.name}.key`,
    '-out',
    `${r.name}.csr`,
  );
  writeFileSync(join(dir, `${r.name}.ext`), `${r.san}\nextendedKeyUsage=${r.usage}\n`);
  openssl(
    dir,
    'x509',
    '-req',
    '-in',
    `${r.name}.csr`,
    '-CA',
    `${ca}.crt`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    `${r.name}.ext`,
    '-out',
    `${r.name}.crt`,
  );
}

/** A server certificate for the loopback address, as the brokers of the tests listen there. */
export const LOOPBACK_SAN = 'subjectAltName=IP:127.0.0.1,DNS:localhost';

/**
 * Mosquitto started as root drops to user "mosquitto" and reads certificates (a bridge's at each
 * connect) as that user: everything in dir must be readable by it. Test keys only.
 */
export function makeReadableByMosquitto(dir: string): void {
  chmodSync(dir, 0o755);
  for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o644);
}
