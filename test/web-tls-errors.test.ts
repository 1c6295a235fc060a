import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import { makeTestPki, type TestPki } from './support/certs.ts';
import { type ServingCli, serveCli } from './support/cli.ts';
import { status } from './support/http-get.ts';
import { requireTool, toolPath } from './support/tools.ts';

// Issue 11: refused client certificates and plain HTTP sent to the TLS port got a bare close and nothing in the log.
// Go answers plain HTTP with a 400 and logs TLS handshake errors; so does the exporter now (the CLI as a child,
// real handshakes with openssl-made keys).

const OPENSSL = toolPath('openssl');
const needOpenssl = (t: TestContext) => requireTool(t, 'openssl', 'apt-get install openssl') !== undefined;

/**
 * For the enclosing describe: a test PKI and the CLI serving TLS with the web config `yaml` (its paths relative to the
 * PKI's folder), waited for by a client trusting the test CA and presenting `client`'s certificate; killed after.
 * The getter gives undefined without openssl.
 */
function tlsExporter(
  name: string,
  yaml: string,
  client: (pki: TestPki) => { cert?: Buffer; key?: Buffer } = () => ({}),
): () => { cli: ServingCli; pki: TestPki } | undefined {
  let served: { cli: ServingCli; pki: TestPki } | undefined;
  before(async () => {
    if (!OPENSSL) return;
    const pki = makeTestPki(OPENSSL);
    const file = join(pki.dir, `${name}.yml`);
    writeFileSync(file, yaml);
    served = { pki, cli: await serveCli([`--web.config.file=${file}`], { ca: readFileSync(pki.caCert), ...client(pki) }) };
  });
  after(() => served?.cli.kill());
  return () => served;
}

/** Sends `raw` over plain TCP and returns what came back before the server closed. */
function plainExchange(url: string, raw: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(Number(port), hostname, () => socket.write(raw));
    let received = '';
    socket.setTimeout(5000, () => socket.destroy(new Error('no close within 5 s')));
    socket.on('data', (c: Buffer) => (received += c.toString('latin1')));
    socket.once('error', reject);
    socket.once('close', () => resolve(received));
  });
}

/** One TLS handshake (and a GET when it succeeds); resolves with the error the client saw, or undefined. */
function handshake(url: string, options: { ca: Buffer; cert?: Buffer; key?: Buffer }): Promise<Error | undefined> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: hostname, port: Number(port), ...options, servername: 'localhost' }, () =>
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
    );
    let received = '';
    socket.on('data', (c: Buffer) => (received += c.toString()));
    socket.once('error', (err) => resolve(err));
    socket.once('close', () =>
      resolve(received.startsWith('HTTP/1.1 200') ? undefined : new Error(`closed after ${JSON.stringify(received)}`)),
    );
  });
}

const tlsLogLines = (cli: ServingCli) => cli.logs().filter((l) => l.msg === 'TLS handshake failed' || l.msg === 'TLS client refused');

describe('plain HTTP on the TLS port', () => {
  const served = tlsExporter('tls', 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n');

  test('gets Go\'s 400 "Client sent an HTTP request to an HTTPS server", and is logged', async (t) => {
    const exporter = served();
    if (!needOpenssl(t) || !exporter) return;
    const { cli, pki } = exporter;
    const received = await plainExchange(cli.url.replace('https:', 'http:'), 'GET /metrics HTTP/1.1\r\nHost: exporter\r\n\r\n');
    assert.match(received, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.ok(received.endsWith('\r\n\r\nClient sent an HTTP request to an HTTPS server.\n'), JSON.stringify(received));
    const line = await cli.waitForLog((l) => l.msg === 'TLS handshake failed');
    assert.equal(line.level, 'warn');
    assert.equal(line.code, 'ERR_SSL_HTTP_REQUEST');
    assert.match(String(line.peer), /^127\.0\.0\.1:\d+$/);
    // And TLS clients are still served.
    assert.equal(await status(`${cli.url}/healthz`, { ca: readFileSync(pki.caCert) }), 200);
  });

  test('curl with http:// where https:// was meant sees the 400 and why', async (t) => {
    const curl = requireTool(t, 'curl', 'apt-get install curl');
    const exporter = served();
    if (!curl || !needOpenssl(t) || !exporter) return;
    const { cli } = exporter;
    const { stdout } = await promisify(execFile)(curl, ['-sS', '-w', '\n%{http_code}', `${cli.url.replace('https:', 'http:')}/metrics`]);
    assert.equal(stdout, 'Client sent an HTTP request to an HTTPS server.\n\n400');
  });
});

describe('refused client certificates (RequireAndVerifyClientCert)', () => {
  const served = tlsExporter(
    'mtls',
    'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: test-ca.crt\n',
    (pki) => ({ cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) }),
  );

  test('a certificate from another CA is refused and the refusal is logged with the peer and the reason', async (t) => {
    const exporter = served();
    if (!needOpenssl(t) || !exporter) return;
    const { cli, pki } = exporter;
    const ca = readFileSync(pki.caCert);
    // Positive control: the right client certificate gets through, and nothing is logged for it.
    assert.equal(await handshake(cli.url, { ca, cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) }), undefined);
    const refused = await handshake(cli.url, { ca, cert: readFileSync(pki.strangerCert), key: readFileSync(pki.strangerKey) });
    assert.ok(refused instanceof Error);
    const line = await cli.waitForLog((l) => l.msg === 'TLS client refused');
    assert.equal(line.level, 'warn');
    assert.match(String(line.err), /^client certificate not verified: [A-Z_]+$/);
    assert.match(String(line.peer), /^127\.0\.0\.1:\d+$/);
  });

  test('a flood of refused handshakes logs at most 10 lines a minute, and the exporter keeps serving', async (t) => {
    const exporter = served();
    if (!needOpenssl(t) || !exporter) return;
    const { cli, pki } = exporter;
    const ca = readFileSync(pki.caCert);
    const stranger = { ca, cert: readFileSync(pki.strangerCert), key: readFileSync(pki.strangerKey) };
    for (let i = 0; i < 10; i++) {
      const results = await Promise.all(Array.from({ length: 10 }, () => handshake(cli.url, stranger)));
      assert.ok(results.every((r) => r instanceof Error));
    }
    // Positive control for the bound: ten lines did get logged within the minute (the first test's included).
    await cli.waitForLog(() => tlsLogLines(cli).length >= 10);
    assert.equal(tlsLogLines(cli).length, 10);
    assert.equal(await handshake(cli.url, { ca, cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) }), undefined);
    assert.equal(tlsLogLines(cli).length, 10);
    assert.ok(cli.rss() < 256 * 1024 * 1024, `RSS ${Math.round(cli.rss() / 1048576)} MiB`);
  });
});

describe('RequireAnyClientCert without a certificate', () => {
  const served = tlsExporter(
    'any',
    'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAnyClientCert\n',
    (pki) => ({ cert: readFileSync(pki.strangerCert), key: readFileSync(pki.strangerKey) }),
  );

  test('is refused and logged', async (t) => {
    const exporter = served();
    if (!needOpenssl(t) || !exporter) return;
    const { cli, pki } = exporter;
    assert.ok((await handshake(cli.url, { ca: readFileSync(pki.caCert) })) instanceof Error);
    const line = await cli.waitForLog((l) => l.msg === 'TLS client refused');
    assert.equal(line.err, 'no client certificate (client_auth_type RequireAnyClientCert)');
  });
});
