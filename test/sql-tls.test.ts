// kind: sql over TLS to a real PostgreSQL 15 with an openssl-made certificate: `tls.caFile` verifies the server
// (the session is encrypted, as pg_stat_ssl shows), and a server the CA did not sign is refused (reason connection).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeTestPki } from './support/certs.ts';
import { startTestExporter } from './support/exporter.ts';
import { POSTGRES_INSTALL, postgresInstalled, startPostgres } from './support/postgres.ts';
import { family, scrape } from './support/scrape.ts';
import { requireTool } from './support/tools.ts';

test('tls.caFile: verified and encrypted; a server certificate from another CA fails with reason connection', async (t) => {
  const openssl = requireTool(t, 'openssl', 'apt-get install openssl');
  if (!postgresInstalled()) {
    if (process.env.CI === 'true') throw new Error(`PostgreSQL 15 not found (install it with: ${POSTGRES_INSTALL})`);
    return t.skip(`PostgreSQL 15 not found (install it with: ${POSTGRES_INSTALL})`);
  }
  if (!openssl) return;
  const pki = makeTestPki(openssl);
  t.after(() => rm(pki.dir, { recursive: true, force: true }));
  const db = await startPostgres({ tls: { certFile: pki.serverCert, keyFile: pki.serverKey } });
  t.after(() => db.stop());
  const config = (caFile: string) => `
sources:
  - name: db
    kind: sql
    driver: postgres
    host: 127.0.0.1
    port: ${db.port}
    database: ${db.database}
    user: ${db.user}
    password: { value: ${db.password} }
    tls: { caFile: ${caFile} }
    queries:
      - { name: tls, sql: "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", metrics: [{ name: session_encrypted, value: ssl }] }
`;
  const trusted = await startTestExporter(config(pki.caCert));
  t.after(() => trusted.stop());
  assert.deepEqual(family((await scrape(trusted.url)).body, 'session_encrypted'), [['session_encrypted', 1]]);

  const stranger = await startTestExporter(config(pki.otherCaCert));
  t.after(() => stranger.stop());
  const { body } = await scrape(stranger.url);
  assert.deepEqual(family(body, 'session_encrypted'), []);
  assert.match(body, /custom_exporter_source_errors_total\{source="db",reason="connection"\} 1/);
  assert.match(stranger.status().find((s) => s.name === 'db')?.lastError ?? '', /^query "tls": cannot connect: .*certificate/);
});

test('tls.caFile that is a FIFO fails the collection with reason connection at once, never blocking an I/O thread', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sql-tls-fifo-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const fifo = join(dir, 'ca.pem');
  execFileSync('/usr/bin/mkfifo', [fifo]);
  // No server is needed: the CA is read before connecting. 192.0.2.1 (TEST-NET-1) would only be reached after it.
  const exporter = await startTestExporter(`
sources:
  - name: db
    kind: sql
    driver: postgres
    host: 192.0.2.1
    user: exporter
    tls: { caFile: ${fifo} }
    timeout: 5s
    queries:
      - { name: one, sql: SELECT 1 AS v, metrics: [{ name: one, value: v }] }
`);
  t.after(() => exporter.stop());
  const { body } = await scrape(exporter.url);
  assert.match(body, /custom_exporter_source_errors_total\{source="db",reason="connection"\} 1/);
  assert.match(
    exporter.status().find((s) => s.name === 'db')?.lastError ?? '',
    /tls\.caFile: cannot read .*ca\.pem: not a regular file \(a FIFO\)/,
  );
});
