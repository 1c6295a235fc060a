// A PostgreSQL outage while a real Prometheus scrapes the real exporter (dist/main.js): the sql source goes down
// (custom_exporter_source_up 0) and comes back on its own once the server is back, /metrics and /healthz answer 200
// throughout, and the exporter is never restarted.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { serveCli } from './support/cli.ts';
import { status } from './support/http-get.ts';
import { POSTGRES_INSTALL, postgresInstalled, startPostgres, writeSecret } from './support/postgres.ts';
import { startPrometheus } from './support/prometheus.ts';
import { requireTool } from './support/tools.ts';

// How long the database stays down: several scrapes and connection retries, within the 10–30 s.
const OUTAGE_MS = 12_000;

test('a database outage: source_up 0, then 1 again without a restart; /metrics and /healthz always 200', {
  timeout: 180_000,
}, async (t) => {
  const prometheusBinary = requireTool(t, 'prometheus', 'apt-get install prometheus');
  if (!postgresInstalled()) {
    if (process.env.CI === 'true') throw new Error(`PostgreSQL 15 not found (install it with: ${POSTGRES_INSTALL})`);
    return t.skip(`PostgreSQL 15 not found (install it with: ${POSTGRES_INSTALL})`);
  }
  if (!prometheusBinary) return;
  const db = await startPostgres();
  t.after(() => db.stop());
  const dir = await mkdtemp(join(tmpdir(), 'sql-outage-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeSecret(join(dir, 'password'), db.password);
  const config = join(dir, 'config.yaml');
  await writeFile(
    config,
    `sources:
  - name: db
    kind: sql
    driver: postgres
    timeout: 2s
    dsn: { file: ${join(dir, 'dsn')} }
    queries:
      - { name: answer, sql: "SELECT 42 AS answer", metrics: [{ name: the_answer, value: answer }] }
`,
  );
  await writeSecret(join(dir, 'dsn'), `postgres://${db.user}:${db.password}@127.0.0.1:${db.port}/${db.database}`);
  const cli = await serveCli(['--config.file', config]);
  t.after(() => cli.kill());
  const target = new URL(cli.url).host;
  const prometheus = await startPrometheus(prometheusBinary, [{ job_name: 'sql', static_configs: [{ targets: [target] }] }]);
  t.after(() => prometheus.stop());

  // Our own scrapes and probes all along, beside Prometheus'.
  const answers: number[] = [];
  let probing = true;
  const probes = (async () => {
    while (probing) {
      answers.push(await status(`${cli.url}/metrics`), await status(`${cli.url}/healthz`));
      await delay(200);
    }
  })();
  t.after(async () => {
    probing = false;
    await probes;
  });

  await prometheus.waitFor('custom_exporter_source_up{source="db"}', (v) => v === 1);
  await prometheus.waitFor('the_answer', (v) => v === 42);
  await db.stopServer();
  const down = performance.now();
  await prometheus.waitFor('custom_exporter_source_up{source="db"}', (v) => v === 0);
  await prometheus.waitFor('custom_exporter_source_errors_total{source="db",reason="connection"}', (v) => v >= 1);
  // The outage itself lasts a while: the exporter keeps retrying meanwhile.
  await delay(Math.max(0, OUTAGE_MS - (performance.now() - down)));
  await db.startServer();
  await prometheus.waitFor('custom_exporter_source_up{source="db"}', (v) => v === 1, 30_000);
  await prometheus.waitFor('the_answer', (v) => v === 42);

  probing = false;
  await probes;
  assert.ok(answers.length > 20, `only ${answers.length} probes ran`);
  assert.deepEqual(
    answers.filter((code) => code !== 200),
    [],
  );
  // Prometheus never missed a scrape, and the exporter is the process it started with.
  const [up] = await prometheus.query('min_over_time(up{job="sql"}[5m])');
  assert.equal(up?.value[1], '1');
  assert.equal(cli.exitCode(), null);
  assert.equal(cli.logs().filter((line) => line.msg === 'listening').length, 1);
  // The failures were logged, without the password the dsn holds.
  assert.ok(cli.logs().some((line) => line.msg === 'source collection failed'));
  assert.ok(!cli.stderr().includes(db.password), 'the password was logged');
});
