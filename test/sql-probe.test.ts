// kind: sql as a /probe module, through the real built CLI: one postgres module probing two real PostgreSQL 15
// servers and one mysql module probing a real MariaDB, the target being the database's host:port; a down target
// is probe_success 0 within the scrape timeout; a host name resolving outside the module's cidrs is refused before
// anything connects (counted as `dns`); the module shapes a target cannot go into are config errors.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ServingCli, serveCli } from './support/cli.ts';
import { assertConfigRejects } from './support/config-error.ts';
import { MARIADB_MISSING, type MariaDb, startMariaDb } from './support/mariadb.ts';
import { freePort } from './support/ports.ts';
import { POSTGRES_INSTALL, postgresInstalled, startPostgres, type TestPostgres } from './support/postgres.ts';
import { family, samples } from './support/scrape.ts';

const installed = postgresInstalled();
if (!installed && process.env.CI === 'true') throw new Error(`PostgreSQL 15 not found (install it with: ${POSTGRES_INSTALL})`);

/** The YAML block the README marks with `<!-- sql: name -->`. */
function readmeExample(name: string): string {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const marker = readme.indexOf(`<!-- sql: ${name} -->\n\`\`\`yaml\n`);
  assert.ok(marker >= 0, `no <!-- sql: ${name} --> example`);
  const start = readme.indexOf('\n', readme.indexOf('```yaml', marker)) + 1;
  return readme.slice(start, readme.indexOf('```', start));
}

async function probe(exporter: ServingCli, query: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${exporter.url}/probe?${query}`, { headers, signal: AbortSignal.timeout(30_000) });
  const body = await res.text();
  return { status: res.status, body, samples: samples(body) };
}

describe('sql probe modules', { skip: installed ? false : `PostgreSQL 15 not found (install it with: ${POSTGRES_INSTALL})` }, () => {
  let east: TestPostgres;
  let west: TestPostgres;
  let maria: MariaDb | undefined;
  let dir: string;
  let exporter: ServingCli;

  before(async () => {
    [east, west, maria] = await Promise.all([startPostgres(), startPostgres(), startMariaDb()]);
    // One module, one password file: both servers' role takes the same password.
    await west.admin(`ALTER ROLE ${west.user} PASSWORD '${east.password}'`);
    for (const [db, region, open] of [
      [east, 'east', 3],
      [west, 'west', 7],
    ] as const) {
      await db.admin('CREATE TABLE orders (region text, status text, n int)');
      await db.admin(`GRANT SELECT ON orders TO ${db.user}`);
      await db.admin('INSERT INTO orders VALUES ($1, $2, $3), ($1, $4, $5)', [region, 'open', open, 'shipped', open * 10]);
    }
    dir = await mkdtemp(join(tmpdir(), 'sql-probe-'));
    await writeFile(join(dir, 'pg-password'), east.password, { mode: 0o600 });
    if (maria) {
      await maria.admin('CREATE TABLE app.jobs (state VARCHAR(20), n INT)');
      await maria.admin("INSERT INTO app.jobs VALUES ('queued', 5)");
      await writeFile(join(dir, 'maria-password'), maria.password, { mode: 0o600 });
    }
    const pgModule = (name: string, allow: string) => `
  - name: ${name}
    kind: sql
    driver: postgres
    port: 5432
    database: ${east.database}
    user: ${east.user}
    password: { file: pg-password }
    queries:
      - name: orders
        sql: SELECT status, n FROM orders
        metrics: [{ name: shop_orders, value: n, labels: { status: status } }]
      - name: target
        sql: SELECT $1::text AS probed, 1 AS one
        params: ["{{target}}"]
        metrics: [{ name: shop_probed, value: one, labels: { probed: probed } }]
    allow: ${allow}`;
    await writeFile(
      join(dir, 'config.yaml'),
      `sources: [{ kind: demo }]
modules:${pgModule('pg', '{ cidrs: [127.0.0.0/8] }')}${pgModule('pg_named', '{ hosts: [localhost], cidrs: [10.0.0.0/8] }')}
  - name: maria
    kind: sql
    driver: mysql
    database: ${maria?.database ?? 'app'}
    user: ${maria?.user ?? 'exporter'}
    password: { file: maria-password }
    queries:
      - name: jobs
        sql: SELECT state, n FROM jobs
        metrics: [{ name: app_jobs, value: n, labels: { state: state } }]
    allow: { cidrs: [127.0.0.0/8] }
`,
    );
    exporter = await serveCli([`--config.file=${join(dir, 'config.yaml')}`, '--web.listen-address=127.0.0.1:0']);
  });

  after(async () => {
    await exporter?.kill();
    await Promise.all([east?.stop(), west?.stop(), maria?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('one postgres module probes two servers: each answer has that database rows and probe_success 1', async () => {
    for (const [db, open] of [
      [east, 3],
      [west, 7],
    ] as const) {
      const target = `127.0.0.1:${db.port}`;
      const answer = await probe(exporter, `module=pg&target=${encodeURIComponent(target)}`);
      assert.equal(answer.status, 200, answer.body);
      assert.equal(answer.samples.get('probe_success'), 1, answer.body);
      assert.deepEqual(family(answer.body, 'shop_orders'), [
        ['shop_orders{status="open"}', open],
        ['shop_orders{status="shipped"}', open * 10],
      ]);
      // The target went into the query as a bound parameter, not into its text.
      assert.deepEqual(family(answer.body, 'shop_probed'), [[`shop_probed{probed="${target}"}`, 1]]);
    }
  });

  test('a mysql module probes MariaDB at the target', async (t) => {
    if (!maria) {
      if (process.env.CI === 'true') throw new Error(MARIADB_MISSING);
      return t.skip(MARIADB_MISSING);
    }
    const answer = await probe(exporter, `module=maria&target=127.0.0.1:${maria.port}`);
    assert.equal(answer.samples.get('probe_success'), 1, answer.body);
    assert.deepEqual(family(answer.body, 'app_jobs'), [['app_jobs{state="queued"}', 5]]);
  });

  test('a target where no database listens, or one that never answers, is probe_success 0 within the scrape timeout', async (t) => {
    // Accepts connections and never says a word: the client waits for the server's first message.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      for (const socket of sockets) socket.destroy();
      silent.close();
    });
    const silentPort = (silent.address() as AddressInfo).port;
    for (const port of [await freePort(), silentPort]) {
      const started = performance.now();
      const answer = await probe(exporter, `module=pg&target=127.0.0.1:${port}`, { 'X-Prometheus-Scrape-Timeout-Seconds': '3' });
      const ms = performance.now() - started;
      assert.equal(answer.status, 200, answer.body);
      assert.equal(answer.samples.get('probe_success'), 0, answer.body);
      assert.equal(family(answer.body, 'shop_orders').length, 0, answer.body);
      // The scrape's 3 s budget (minus global.scrapeTimeoutOffset), not the driver's 10 s connect timeout.
      assert.ok(ms < 3_000, `port ${port}: took ${ms} ms`);
    }
    assert.equal(sockets.size > 0, true, 'the silent server was connected to');
  });

  test('a host name resolving outside the cidrs is refused before connecting, counted as dns', async () => {
    const answer = await probe(exporter, `module=pg_named&target=localhost:${east.port}`);
    assert.equal(answer.status, 200, answer.body);
    assert.equal(answer.samples.get('probe_success'), 0, answer.body);
    assert.equal(family(answer.body, 'shop_orders').length, 0, answer.body);
    const metrics = await (await fetch(`${exporter.url}/metrics`)).text();
    // Once per probe, however many queries the module has: the host is resolved and judged once per collection.
    assert.equal(samples(metrics).get('custom_exporter_probe_refused_total{module="pg_named",reason="dns"}'), 1, metrics);
    assert.equal(samples(metrics).get('custom_exporter_probe_refused_total{module="pg_named",reason="redirect"}'), undefined, metrics);
    // The landing page's recent probes say why: the allowlist refused the address, not the database.
    const page = await (await fetch(`${exporter.url}/`)).text();
    assert.match(page, /localhost:\d+: refused: localhost resolves to (127\.0\.0\.1|::1), outside the allowed cidrs/);
  });

  test("the README's sql module probes a database with its region parameter", async () => {
    const example = readmeExample('probe module')
      .replace('/run/secrets/pg-password', join(dir, 'pg-password'))
      .replace('database: app', `database: ${west.database}`)
      .replace('user: metrics_reader', `user: ${west.user}`)
      .replace(/allow: .*/, 'allow: { cidrs: [127.0.0.0/8] }');
    const file = join(dir, 'readme.yaml');
    await writeFile(file, `sources: [{ kind: demo }]\n${example}`);
    const readme = await serveCli([`--config.file=${file}`, '--web.listen-address=127.0.0.1:0']);
    try {
      const answer = await probe(readme, `module=orders&target=127.0.0.1:${west.port}&region=west`);
      assert.equal(answer.samples.get('probe_success'), 1, answer.body);
      assert.deepEqual(family(answer.body, 'shop_orders'), [
        ['shop_orders{status="open"}', 1],
        ['shop_orders{status="shipped"}', 1],
      ]);
      const elsewhere = await probe(readme, `module=orders&target=127.0.0.1:${west.port}&region=east`);
      assert.equal(elsewhere.samples.get('probe_success'), 1, elsewhere.body);
      assert.deepEqual(family(elsewhere.body, 'shop_orders'), []);
    } finally {
      await readme.kill();
    }
  });
});

describe('sql module config', () => {
  const module = (extra: string) =>
    `sources: [{ kind: demo }]\nmodules:\n  - name: db\n    kind: sql\n${extra}    queries: [{ name: q, sql: "SELECT $1::text AS t, 1 AS one", params: ["{{target}}"], metrics: [{ name: x, value: one }] }]\n    allow: { allowAny: true }\n`;

  test('is a config error for a sqlite database, a dsn, a socket, templated SQL text or a polled query', () => {
    assertConfigRejects(
      module('    driver: sqlite\n    file: app.db\n'),
      /^sources\.yaml:\d+:\d+: modules\[0\]\.driver: a sqlite database has no host for a probe target: use postgres or mysql$/,
    );
    assertConfigRejects(
      module('    driver: postgres\n    dsn: postgres://u:p@db/x\n'),
      /^sources\.yaml:\d+:\d+: modules\[0\]\.dsn: a sql module takes the connection fields/,
    );
    assertConfigRejects(module('    driver: mysql\n    socket: /run/mysqld.sock\n'), /^sources\.yaml:\d+:\d+: modules\[0\]\.socket: /);
    assertConfigRejects(
      'sources: [{ kind: demo }]\nmodules:\n  - name: db\n    kind: sql\n    driver: postgres\n    queries: [{ name: q, sql: "SELECT \'{{target}}\' AS t, 1 AS one", metrics: [{ name: x, value: one }] }]\n',
      /^sources\.yaml:\d+:\d+: modules\[0\]\.queries\[0\]\.sql: SQL text is not templated/,
    );
    assertConfigRejects(
      'sources: [{ kind: demo }]\nmodules:\n  - name: db\n    kind: sql\n    driver: postgres\n    queries: [{ name: q, sql: "SELECT 1 AS one", interval: 30s, metrics: [{ name: x, value: one }] }]\n',
      /^sources\.yaml:\d+:\d+: modules\[0\]\.queries\[0\]\.interval: a module runs once per probe/,
    );
  });
});
