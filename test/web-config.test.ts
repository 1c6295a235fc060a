import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadWebConfig } from '../src/http/web-config.ts';
import { runCli } from './support/cli.ts';
import { assertConfigError } from './support/config-error.ts';

const dir = mkdtempSync(join(tmpdir(), 'web-config-'));
let n = 0;
function file(yaml: string): string {
  const path = join(dir, `web-${n++}.yml`);
  writeFileSync(path, yaml);
  return path;
}

function rejects(yaml: string, message: (path: string) => string): void {
  const path = file(yaml);
  assertConfigError(() => loadWebConfig(path), message(path));
}

const HASH = '$2y$10$X0ZhZ1b5mJ7A1m0mJ8m5uO7m4m6mQv7s5c7xg4m5c8yq0m5m3m1m6';

describe('web config file', () => {
  test('users and headers are read; no TLS section means plain HTTP', () => {
    const config = loadWebConfig(
      file(`basic_auth_users:\n  alice: "${HASH}"\nhttp_server_config:\n  headers:\n    Strict-Transport-Security: max-age=31536000\n`),
    );
    assert.equal(config.tls, undefined);
    assert.deepEqual([...config.users.keys()], ['alice']);
    assert.deepEqual(config.headers, { 'Strict-Transport-Security': 'max-age=31536000' });
  });

  test('a password in place of a bcrypt hash is refused', () => {
    rejects(
      'basic_auth_users:\n  alice: hunter2\n',
      (p) => `${p}:2:3: basic_auth_users.alice: must be a bcrypt hash (htpasswd -nBC 10 "" | tr -d ':\\n')`,
    );
  });

  test('unknown keys and headers outside the allowed set are refused', () => {
    rejects('tls_config: {}\n', (p) => `${p}:1:1: tls_config: unknown field tls_config`);
    rejects(
      'http_server_config:\n  headers:\n    Server: custom\n',
      (p) => `${p}:3:5: http_server_config.headers.Server: unknown field Server`,
    );
  });

  test('TLS needs a certificate and a key that can be read and match', () => {
    rejects(
      'tls_server_config:\n  key_file: server.key\n',
      (p) => `${p}:1:1: tls_server_config.cert_file: exactly one of cert_file and cert is required`,
    );
    rejects(
      'tls_server_config:\n  cert_file: missing.crt\n  key_file: missing.key\n',
      (p) => `${p}:2:3: tls_server_config.cert_file: cannot read ${join(dir, 'missing.crt')}: ENOENT`,
    );
    writeFileSync(join(dir, 'junk.crt'), 'not a certificate');
    writeFileSync(join(dir, 'junk.key'), 'not a key');
    assert.throws(
      () => loadWebConfig(file('tls_server_config:\n  cert_file: junk.crt\n  key_file: junk.key\n')),
      /:1:1: tls_server_config: unusable certificate or key: /,
    );
  });

  test('verifying client certificates needs client_ca_file', () => {
    rejects(
      'tls_server_config:\n  cert: x\n  key: y\n  client_auth_type: RequireAndVerifyClientCert\n',
      (p) => `${p}:1:1: tls_server_config.client_ca_file: client_ca_file is required to verify client certificates`,
    );
    rejects(
      'tls_server_config:\n  cert: x\n  key: y\n  client_auth_type: Always\n',
      (p) =>
        `${p}:4:3: tls_server_config.client_auth_type: Invalid option: expected one of "NoClientCert"|"RequestClientCert"|"RequireAnyClientCert"|"VerifyClientCertIfGiven"|"RequireAndVerifyClientCert"`,
    );
  });

  test('restrictions we cannot honour are refused rather than ignored', () => {
    rejects(
      'tls_server_config:\n  cert: x\n  key: y\n  cipher_suites: [TLS_AES_128_GCM_SHA256]\n',
      (p) =>
        `${p}:4:3: tls_server_config.cipher_suites: cipher_suites is not supported by custom-exporter (Node.js' OpenSSL defaults apply); remove it`,
    );
  });

  test('the exporter refuses to start with a bad web config: exit 2 and the reason', async () => {
    const path = file('basic_auth_users:\n  alice: plain\n');
    const run = await runCli([`--web.config.file=${path}`, '--log.format=json', '--web.listen-address=127.0.0.1:0']);
    assert.equal(run.code, 2);
    const last = JSON.parse(run.stderr.trim().split('\n').at(-1)!) as { msg: string; err: string };
    assert.equal(last.msg, 'invalid configuration');
    assert.match(last.err, new RegExp(`^${path.replace(/[/.]/g, '\\$&')}:2:3: basic_auth_users\\.alice: must be a bcrypt hash`));
  });
});
