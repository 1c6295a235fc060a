import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';
import { loadWebConfig } from '../src/http/web-config.ts';
import { makeTestPki, type TestPki } from './support/certs.ts';
import { eventually } from './support/eventually.ts';
import { startTestExporter, type TestExporter } from './support/exporter.ts';
import { get } from './support/http-get.ts';
import { requireTool, toolPath } from './support/tools.ts';

const run = promisify(execFile);

const basic = (user: string, password: string) => ({ Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

function webConfigFile(pki: TestPki, yaml: string): string {
  const file = join(pki.dir, `web-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, yaml);
  return file;
}

/** The demo source served with the web config in `file` (relative paths resolve against the file's folder). */
const serveWithWebConfig = (file: string, protectHealth = false) =>
  startTestExporter('sources: [{ kind: demo }]', { web: { config: loadWebConfig(file), maxRequests: 40, protectHealth } });

const OPENSSL = toolPath('openssl');
let pki: TestPki | undefined;
/** The shared test PKI; undefined (and the tests skip, or fail under CI) without openssl. */
function testPki(): TestPki | undefined {
  if (OPENSSL) pki ??= makeTestPki(OPENSSL);
  return pki;
}
const needOpenssl = (t: TestContext) => requireTool(t, 'openssl', 'apt-get install openssl') !== undefined;

describe('TLS', () => {
  let exporter: TestExporter;
  let certs: TestPki;
  before(async () => {
    const p = testPki();
    if (!p) return;
    certs = p;
    // Relative paths resolve against the web config file's folder, as in exporter-toolkit.
    const file = webConfigFile(certs, 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n');
    exporter = await serveWithWebConfig(file);
  });
  after(() => exporter?.stop());

  test('a client trusting the CA gets the metrics over https', async (t) => {
    if (!needOpenssl(t)) return;
    const res = await get(`${exporter.url}/metrics`, { ca: readFileSync(certs.caCert) });
    assert.equal(res.status, 200);
    assert.match(res.body, /^random_number \d+$/m);
  });

  test('a client with the wrong CA is refused', async (t) => {
    if (!needOpenssl(t)) return;
    await assert.rejects(get(`${exporter.url}/metrics`, { ca: readFileSync(certs.otherCaCert) }), {
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
  });

  test('curl: right CA works, wrong CA fails verification', async (t) => {
    const curl = requireTool(t, 'curl', 'apt-get install curl');
    if (!curl || !needOpenssl(t)) return;
    const ok = await run(curl, ['-sS', '--cacert', certs.caCert, `${exporter.url}/metrics`]);
    assert.match(ok.stdout, /^random_number \d+$/m);
    await assert.rejects(
      run(curl, ['-sS', '--cacert', certs.otherCaCert, `${exporter.url}/metrics`]),
      (err: { code: number }) => err.code === 60,
    );
  });

  test('plain HTTP on the TLS port gets 400 and no metrics, as Go servers answer it', async (t) => {
    if (!needOpenssl(t)) return;
    const res = await get(`${exporter.url.replace('https:', 'http:')}/metrics`);
    assert.equal(res.status, 400);
    assert.match(res.body, /^Client sent an HTTP request to an HTTPS server\.?\n?$/);
  });

  test('TLS below the configured min_version (TLS 1.2 by default) is refused by the server', async (t) => {
    if (!needOpenssl(t)) return;
    // Node's OpenSSL will not even offer TLS 1.0/1.1 at its default security level; level 0 makes the client ask,
    // so that it is the server that refuses (with a protocol_version alert).
    const legacyClient = { ca: readFileSync(certs.caCert), minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' } as const;
    assert.equal(
      (await get(`${exporter.url}/metrics`, { ...legacyClient, maxVersion: 'TLSv1.2' })).status,
      200,
      'the same client, on TLS 1.2',
    );
    await assert.rejects(get(`${exporter.url}/metrics`, { ...legacyClient, maxVersion: 'TLSv1.1' }), {
      code: 'EPROTO',
      message: /tlsv1 alert protocol version/,
    });
  });
});

test('min_version TLS13 refuses a TLS 1.2 client that the default accepts', async (t) => {
  const p = testPki();
  if (!needOpenssl(t) || !p) return;
  const exporter = await serveWithWebConfig(
    webConfigFile(p, 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  min_version: TLS13\n'),
  );
  try {
    const tls12 = { ca: readFileSync(p.caCert), maxVersion: 'TLSv1.2' } as const;
    await assert.rejects(get(`${exporter.url}/metrics`, tls12), { code: 'EPROTO', message: /tlsv1 alert protocol version/ });
    assert.equal((await get(`${exporter.url}/metrics`, { ca: readFileSync(p.caCert), minVersion: 'TLSv1.3' })).status, 200);
  } finally {
    await exporter.stop();
  }
});

describe('mutual TLS (RequireAndVerifyClientCert)', () => {
  let exporter: TestExporter;
  let certs: TestPki;
  before(async () => {
    const p = testPki();
    if (!p) return;
    certs = p;
    const file = webConfigFile(
      certs,
      `tls_server_config:\n  cert_file: ${certs.serverCert}\n  key_file: ${certs.serverKey}\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${certs.caCert}\n`,
    );
    exporter = await serveWithWebConfig(file);
  });
  after(() => exporter?.stop());

  test('a client certificate from the CA is accepted', async (t) => {
    if (!needOpenssl(t)) return;
    const res = await get(`${exporter.url}/metrics`, {
      ca: readFileSync(certs.caCert),
      cert: readFileSync(certs.clientCert),
      key: readFileSync(certs.clientKey),
    });
    assert.equal(res.status, 200);
  });

  test('no client certificate, or one from another CA, is refused', async (t) => {
    if (!needOpenssl(t)) return;
    // Client certificates are checked once the handshake is done, where the refusal can be logged (Node's own check
    // is silent): the client sees the connection reset, the log says why (test/web-tls-errors.test.ts).
    await assert.rejects(get(`${exporter.url}/metrics`, { ca: readFileSync(certs.caCert) }), {
      code: 'ECONNRESET',
      message: 'socket hang up',
    });
    await assert.rejects(
      get(`${exporter.url}/metrics`, {
        ca: readFileSync(certs.caCert),
        cert: readFileSync(certs.strangerCert),
        key: readFileSync(certs.strangerKey),
      }),
      { code: 'ECONNRESET', message: 'socket hang up' },
    );
  });

  test('curl with the client certificate works', async (t) => {
    const curl = requireTool(t, 'curl', 'apt-get install curl');
    if (!curl || !needOpenssl(t)) return;
    const ok = await run(curl, [
      '-sS',
      '--cacert',
      certs.caCert,
      '--cert',
      certs.clientCert,
      '--key',
      certs.clientKey,
      `${exporter.url}/metrics`,
    ]);
    assert.match(ok.stdout, /random_number/);
    // The server closes the connection once the handshake is done, without an answer: curl reports a reset (56)
    // or an empty reply (52), depending on whether its request was already on the way.
    await assert.rejects(
      run(curl, ['-sS', '--cacert', certs.caCert, `${exporter.url}/metrics`]),
      (err: { code?: number; stderr?: string }) => {
        const refused =
          (err.code === 56 && /Connection reset by peer/.test(err.stderr ?? '')) ||
          (err.code === 52 && /Empty reply from server/.test(err.stderr ?? ''));
        assert.ok(refused, `curl exit ${err.code}: ${err.stderr}`);
        return true;
      },
    );
  });
});

describe('basic auth', () => {
  let exporter: TestExporter;
  let file: string;
  before(async () => {
    const p = testPki();
    if (!p) return;
    file = webConfigFile(
      p,
      `basic_auth_users:\n  prometheus: ${bcrypt.hashSync('s3cret', 4)}\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\n`,
    );
    exporter = await serveWithWebConfig(file);
  });
  after(() => exporter?.stop());

  test('right user and password: 200; wrong password or unknown user: 401 with WWW-Authenticate', async (t) => {
    if (!needOpenssl(t)) return;
    assert.equal((await get(`${exporter.url}/metrics`, { headers: basic('prometheus', 's3cret') })).status, 200);
    for (const headers of [basic('prometheus', 'wrong'), basic('mallory', 's3cret'), {}, { Authorization: 'Bearer abc' }]) {
      const res = await get(`${exporter.url}/metrics`, { headers });
      assert.equal(res.status, 401);
      assert.match(String(res.headers['www-authenticate']), /^Basic realm=/);
      assert.doesNotMatch(res.body, /random_number/);
    }
    assert.equal((await get(`${exporter.url}/`, {})).status, 401, 'the landing page is protected too');
  });

  test('health endpoints answer without credentials (kubelet probes)', async (t) => {
    if (!needOpenssl(t)) return;
    assert.equal((await get(`${exporter.url}/healthz`)).status, 200);
    assert.equal((await get(`${exporter.url}/readyz`)).status, 200);
  });

  test('configured security headers and nosniff are on every answer, 401 included', async (t) => {
    if (!needOpenssl(t)) return;
    for (const res of [
      await get(`${exporter.url}/metrics`),
      await get(`${exporter.url}/healthz`),
      await get(`${exporter.url}/nope`, { headers: basic('prometheus', 's3cret') }),
    ]) {
      assert.equal(res.headers['x-frame-options'], 'deny');
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
    }
  });

  test('changed users are picked up without a restart', async (t) => {
    if (!needOpenssl(t)) return;
    writeFileSync(file, `basic_auth_users:\n  prometheus: ${bcrypt.hashSync('rotated', 4)}\n`);
    await eventually(async () =>
      assert.equal(
        (await get(`${exporter.url}/metrics`, { headers: basic('prometheus', 'rotated') })).status,
        200,
        'the new password works',
      ),
    );
    assert.equal(
      (await get(`${exporter.url}/metrics`, { headers: basic('prometheus', 's3cret') })).status,
      401,
      'the old one no longer does',
    );
  });
});

test('--web.protect-health-endpoints puts /healthz behind auth as well', async (t) => {
  const p = testPki();
  if (!needOpenssl(t) || !p) return;
  const file = webConfigFile(p, `basic_auth_users:\n  ops: ${bcrypt.hashSync('pw', 4)}\n`);
  const exporter = await serveWithWebConfig(file, true);
  try {
    assert.equal((await get(`${exporter.url}/healthz`)).status, 401);
    assert.equal((await get(`${exporter.url}/healthz`, { headers: basic('ops', 'pw') })).status, 200);
  } finally {
    await exporter.stop();
  }
});

test('a renewed certificate is served without a restart', async (t) => {
  const openssl = requireTool(t, 'openssl', 'apt-get install openssl');
  if (!openssl) return;
  const first = makeTestPki(openssl);
  const second = makeTestPki(openssl);
  copyFileSync(first.serverCert, join(first.dir, 'live.crt'));
  copyFileSync(first.serverKey, join(first.dir, 'live.key'));
  const file = webConfigFile(first, 'tls_server_config:\n  cert_file: live.crt\n  key_file: live.key\n');
  const exporter = await serveWithWebConfig(file);
  try {
    assert.equal((await get(`${exporter.url}/healthz`, { ca: readFileSync(first.caCert), agent: false })).status, 200);
    // Renewal by another CA: only clients trusting the new CA can connect afterwards.
    copyFileSync(second.serverCert, join(first.dir, 'live.crt'));
    copyFileSync(second.serverKey, join(first.dir, 'live.key'));
    await eventually(async () =>
      assert.equal((await get(`${exporter.url}/healthz`, { ca: readFileSync(second.caCert), agent: false })).status, 200),
    );
    await assert.rejects(get(`${exporter.url}/healthz`, { ca: readFileSync(first.caCert), agent: false }), {
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
  } finally {
    await exporter.stop();
  }
});
