import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, type TestContext, test } from 'node:test';
import { ConfigError } from '../src/config/yaml-document.ts';
import { loadWebConfig } from '../src/http/web-config.ts';
import { makeTestPki, type TestPki } from './support/certs.ts';
import { runCli, type ServingCli, serveCli } from './support/cli.ts';
import { status } from './support/http-get.ts';
import { requireTool, toolPath } from './support/tools.ts';

// Issue 11: a web config that loads but cannot work must be refused at load, naming file, line, field and reason,
// the way exporter-toolkit refuses it, instead of serving 500s or failing every handshake.

const dir = mkdtempSync(join(tmpdir(), 'web-config-validation-'));
let n = 0;
function file(yaml: string, folder = dir): string {
  const path = join(folder, `web-${n++}.yml`);
  writeFileSync(path, yaml);
  return path;
}

function refused(yaml: string, expected: (path: string) => string, folder = dir): void {
  const path = file(yaml, folder);
  assert.throws(
    () => loadWebConfig(path),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.equal(err.message, expected(path));
      return true;
    },
  );
}

const HASH = '$2y$10$X0h1gDsPszWURQaxFh.zoubFi6DXncSjhoQNJgRrnGs7EsimhC7zG';

const OPENSSL = toolPath('openssl');
let pki: TestPki | undefined;
function testPki(t: TestContext): TestPki | undefined {
  if (requireTool(t, 'openssl', 'apt-get install openssl') === undefined) return undefined;
  pki ??= makeTestPki(OPENSSL!);
  return pki;
}

/** A self-signed RSA certificate and its key, in `folder`. */
function rsaPair(folder: string): { cert: string; key: string } {
  const cert = join(folder, 'rsa.crt');
  const key = join(folder, 'rsa.key');
  execFileSync(
    OPENSSL!,
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=rsa', '-days', '2'],
    {
      stdio: 'pipe',
    },
  );
  return { cert, key };
}

describe('web config values that load but cannot work are refused', () => {
  test('a header value with CR/LF or a character outside Latin-1', () => {
    refused(
      'http_server_config:\n  headers:\n    Content-Security-Policy: "default-src \'self\'\\r\\nSet-Cookie: a=b"\n',
      (p) =>
        `${p}:3:5: http_server_config.headers.Content-Security-Policy: must not contain control characters (CR, LF, …) or characters outside Latin-1`,
    );
    refused(
      'http_server_config:\n  headers:\n    Strict-Transport-Security: "max-age=31536000 ✓"\n',
      (p) =>
        `${p}:3:5: http_server_config.headers.Strict-Transport-Security: must not contain control characters (CR, LF, …) or characters outside Latin-1`,
    );
  });

  test('header values exporter-toolkit does not allow', () => {
    refused(
      'http_server_config:\n  headers:\n    X-Frame-Options: allowall\n',
      (p) => `${p}:3:5: http_server_config.headers.X-Frame-Options: Invalid option: expected one of "deny"|"sameorigin"`,
    );
    refused(
      'http_server_config:\n  headers:\n    X-Content-Type-Options: sniff\n',
      (p) => `${p}:3:5: http_server_config.headers.X-Content-Type-Options: Invalid input: expected "nosniff"`,
    );
    const ok = loadWebConfig(
      file('http_server_config:\n  headers:\n    X-Frame-Options: sameorigin\n    X-Content-Type-Options: nosniff\n'),
    );
    assert.deepEqual(ok.headers, { 'X-Frame-Options': 'sameorigin', 'X-Content-Type-Options': 'nosniff' });
  });

  test('client_ca_file with NoClientCert', () => {
    refused(
      'tls_server_config:\n  cert: x\n  key: y\n  client_ca_file: ca.crt\n',
      (p) =>
        `${p}:4:3: tls_server_config.client_ca_file: client_ca_file is set but client_auth_type is NoClientCert, which never asks for a client certificate`,
    );
  });

  test('min_version above max_version', () => {
    refused(
      'tls_server_config:\n  cert: x\n  key: y\n  min_version: TLS13\n  max_version: TLS12\n',
      (p) => `${p}:5:3: tls_server_config.max_version: max_version TLS12 is below min_version TLS13: no TLS version is left`,
    );
  });

  test('bcrypt hashes bcrypt cannot check', () => {
    refused(
      `basic_auth_users:\n  alice: "${HASH.replace('$2y$', '$2x$')}"\n`,
      (p) =>
        `${p}:2:3: basic_auth_users.alice: bcrypt version $2x$ is not supported (use $2a$, $2b$ or $2y$: htpasswd -nBC 10 "" | tr -d ':\\n')`,
    );
    refused(
      `basic_auth_users:\n  alice: "${HASH.replace('$10$', '$99$')}"\n`,
      (p) => `${p}:2:3: basic_auth_users.alice: bcrypt cost 99 is outside 4–31`,
    );
    refused(
      `basic_auth_users:\n  alice: "${HASH.replace('$10$', '$03$')}"\n`,
      (p) => `${p}:2:3: basic_auth_users.alice: bcrypt cost 03 is outside 4–31`,
    );
    assert.equal(loadWebConfig(file(`basic_auth_users:\n  alice: "${HASH.replace('$2y$', '$2b$')}"\n`)).users.size, 1);
  });

  test('a TLS key of another type than its certificate (RSA certificate, ECDSA key)', (t) => {
    const certs = testPki(t);
    if (!certs) return;
    const rsa = rsaPair(certs.dir);
    refused(
      `tls_server_config:\n  cert_file: ${rsa.cert}\n  key_file: server.key\n`,
      (p) => `${p}:3:3: tls_server_config.key_file: the key (ec) does not belong to the certificate (rsa)`,
      certs.dir,
    );
    // Two keys of the same type that do not match are refused too.
    refused(
      'tls_server_config:\n  cert_file: server.crt\n  key_file: client.key\n',
      (p) => `${p}:3:3: tls_server_config.key_file: the key (ec) does not belong to the certificate (ec)`,
      certs.dir,
    );
  });

  test("exporter-toolkit's old name RequireClientCert still reads as RequireAnyClientCert", (t) => {
    const certs = testPki(t);
    if (!certs) return;
    const path = file(
      'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireClientCert\n',
      certs.dir,
    );
    assert.equal(loadWebConfig(path).tls?.clientAuth, 'RequireAnyClientCert');
  });

  test('rate_limit, an exporter-toolkit key, is read; a burst of 0 (every request refused) is not', () => {
    const config = loadWebConfig(file('rate_limit:\n  interval: 100ms\n  burst: 5\n'));
    assert.deepEqual(config.rateLimit, { intervalMs: 100, burst: 5 });
    assert.equal(loadWebConfig(file('rate_limit:\n  interval: 0s\n  burst: 0\n')).rateLimit, undefined);
    refused(
      'rate_limit:\n  interval: 1s\n  burst: 0\n',
      (p) => `${p}:3:3: rate_limit.burst: must be at least 1 when interval is set (0 would refuse every request)`,
    );
    refused(
      'rate_limit:\n  interval: soon\n  burst: 1\n',
      (p) => `${p}:2:3: rate_limit.interval: invalid duration "soon" (expected a duration such as 100ms, 1s or 1m; 0s turns the limit off)`,
    );
  });

  test('the exporter refuses to start on such a file: exit 2, file:line:col, field and reason', async () => {
    const path = file('http_server_config:\n  headers:\n    X-Frame-Options: allowall\n');
    const run = await runCli([`--web.config.file=${path}`, '--log.format=json', '--web.listen-address=127.0.0.1:0']);
    assert.equal(run.code, 2, run.stderr);
    const last = JSON.parse(run.stderr.trim().split('\n').at(-1)!) as { msg: string; err: string };
    assert.equal(last.msg, 'invalid configuration');
    assert.equal(last.err, `${path}:3:5: http_server_config.headers.X-Frame-Options: Invalid option: expected one of "deny"|"sameorigin"`);
  });
});

describe('a live certificate rotation to an unusable pair keeps the old pair', () => {
  let cli: ServingCli | undefined;
  after(() => cli?.kill());

  test('RSA certificate with the ECDSA key: logged, and handshakes keep working with the old certificate', async (t) => {
    const certs = testPki(t);
    if (!certs) return;
    const folder = mkdtempSync(join(tmpdir(), 'rotation-'));
    copyFileSync(certs.serverCert, join(folder, 'tls.crt'));
    copyFileSync(certs.serverKey, join(folder, 'tls.key'));
    const config = file('tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n', folder);
    const ca = readFileSync(certs.caCert);
    cli = await serveCli([`--web.config.file=${config}`], { ca });
    const rsa = rsaPair(folder);
    writeFileSync(join(folder, 'tls.crt'), readFileSync(rsa.cert));
    const failure = await cli.waitForLog((l) => l.msg === 'web config reload failed; keeping the previous one');
    assert.match(String(failure.err), /tls_server_config\.key_file: the key \(ec\) does not belong to the certificate \(rsa\)/);
    assert.equal(await status(`${cli.url}/healthz`, { ca }), 200);
  });
});
