import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  readonly dir: string;
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** A second, unrelated CA: what a client with the wrong trust anchors has. */
  readonly otherCaCert: string;
  /** A client certificate signed by the other CA. */
  readonly strangerCert: string;
  readonly strangerKey: string;
}

/** A throwaway CA with a server certificate for 127.0.0.1/localhost and client certificates, made with openssl. */
export function makeTestPki(openssl: string): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'pki-'));
  const path = (name: string) => join(dir, name);
  const run = (...args: string[]) => execFileSync(openssl, args, { stdio: 'pipe' });
  const ca = (name: string) =>
    run(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      path(`${name}.key`),
      '-out',
      path(`${name}.crt`),
      '-subj',
      `/CN=${name}`,
      '-days',
      '2',
    );
  const leaf = (name: string, issuer: string, ext: string) => {
    writeFileSync(path(`${name}.ext`), ext);
    run(
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      path(`${name}.key`),
      '-out',
      path(`${name}.csr`),
      '-subj',
      `/CN=${name}`,
    );
    run(
      'x509',
      '-req',
      '-in',
      path(`${name}.csr`),
      '-CA',
      path(`${issuer}.crt`),
      '-CAkey',
      path(`${issuer}.key`),
      '-CAcreateserial',
      '-out',
      path(`${name}.crt`),
      '-days',
      '2',
      '-extfile',
      path(`${name}.ext`),
    );
  };
  ca('test-ca');
  ca('other-ca');
  leaf('server', 'test-ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  leaf('client', 'test-ca', 'extendedKeyUsage=clientAuth\n');
  leaf('stranger', 'other-ca', 'extendedKeyUsage=clientAuth\n');
  return {
    dir,
    caCert: path('test-ca.crt'),
    serverCert: path('server.crt'),
    serverKey: path('server.key'),
    clientCert: path('client.crt'),
    clientKey: path('client.key'),
    otherCaCert: path('other-ca.crt'),
    strangerCert: path('stranger.crt'),
    strangerKey: path('stranger.key'),
  };
}
