// A sql probe module connects to the address it resolved and judged, yet TLS still verifies the host name: a real
// PostgreSQL 15 whose openssl-made certificate names only DNS:localhost (no IP) is probed as localhost:port, and the
// session is encrypted and verified (connecting by the address alone, the check against 127.0.0.1 would fail).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeTestPki } from './support/certs.ts';
import { serveCli } from './support/cli.ts';
import { POSTGRES_INSTALL, postgresInstalled, startPostgres } from './support/postgres.ts';
import { family, samples } from './support/scrape.ts';
import { requireTool } from './support/tools.ts';

test('a probe by host name connects to the judged address and verifies the certificate against the name', async (t) => {
  const openssl = requireTool(t, 'openssl', 'apt-get install openssl');
  if (!postgresInstalled()) {
    if (process.env.CI === 'true') throw new Error(`PostgreSQL 15 not found (install it with: ${POSTGRES_INSTALL})`);
    return t.skip(`PostgreSQL 15 not found (install it with: ${POSTGRES_INSTALL})`);
  }
  if (!openssl) return;
  const pki = makeTestPki(openssl);
  t.after(() => rm(pki.dir, { recursive: true, force: true }));
  // A server certificate for the name only, signed by the test CA.
  const at = (name: string) => join(pki.dir, name);
  await writeFile(at('named.ext'), 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n');
  const run = (...args: string[]) => execFileSync(openssl, args, { stdio: 'pipe' });
  run(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    at('named.key'),
    '-out',
    at('named.csr'),
    '-subj',
    '/CN=named',
  );
  run(
    'x509',
    '-req',
    '-in',
    at('named.csr'),
    '-CA',
    pki.caCert,
    '-CAkey',
    at('test-ca.key'),
    '-CAcreateserial',
    '-out',
    at('named.crt'),
    '-days',
    '2',
    '-extfile',
    at('named.ext'),
  );
  const db = await startPostgres({ tls: { certFile: at('named.crt'), keyFile: at('named.key') } });
  t.after(() => db.stop());
  await writeFile(at('password'), db.password, { mode: 0o600 });
  await writeFile(
    at('config.yaml'),
    `sources: [{ kind: demo }]
modules:
  - name: db
    kind: sql
    driver: postgres
    database: ${db.database}
    user: ${db.user}
    password: { file: password }
    tls: { caFile: ${pki.caCert} }
    queries:
      - { name: tls, sql: "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", metrics: [{ name: session_encrypted, value: ssl }] }
    allow: { hosts: [localhost], cidrs: [127.0.0.0/8, '::1/128'] }
`,
  );
  const exporter = await serveCli([`--config.file=${at('config.yaml')}`, '--web.listen-address=127.0.0.1:0']);
  t.after(() => exporter.kill());
  const res = await fetch(`${exporter.url}/probe?module=db&target=localhost:${db.port}`, { signal: AbortSignal.timeout(30_000) });
  const body = await res.text();
  assert.equal(res.status, 200, body);
  assert.equal(samples(body).get('probe_success'), 1, body);
  assert.deepEqual(family(body, 'session_encrypted'), [['session_encrypted', 1]]);
});
