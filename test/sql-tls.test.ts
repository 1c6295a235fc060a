// kind: sql over TLS to a real PostgreSQL 15 with an openssl-made certificate: `tls.caFile` verifies the server
// (the session is encrypted, as pg_stat_ssl shows), and a server the CA did not sign is refused (reason connection).
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
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
