// kind: sql against a real PostgreSQL 15 (test/support/postgres.ts, one server for the whole file): values, labels,
// counters, NULLs, exact numerics, booleans, times, the read-only transaction, timeouts cut on the server, failing
// queries, a dropped table and a rotated password. The exporter runs in process (startTestExporter).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseConfig } from '../src/config/load.ts';
import { builtinSources } from '../src/sources/registry.ts';
import { runCli, serveCli } from './support/cli.ts';
import { eventually } from './support/eventually.ts';
import { startTestExporter, type TestExporter } from './support/exporter.ts';
import { OtlpReceiver } from './support/otlp/receiver.ts';
import { POSTGRES_INSTALL, postgresInstalled, startPostgres, type TestPostgres, writeSecret } from './support/postgres.ts';
import { family, scrape } from './support/scrape.ts';

const installed = postgresInstalled();
if (!installed && process.env.CI === 'true') throw new Error(`PostgreSQL 15 not found (install it with: ${POSTGRES_INSTALL})`);

describe('kind: sql (PostgreSQL)', { skip: installed ? false : `PostgreSQL 15 not found (install it with: ${POSTGRES_INSTALL})` }, () => {
  let db: TestPostgres;
  let dir: string;
  let passwordFile: string;
  before(async () => {
    db = await startPostgres();
    dir = await mkdtemp(join(tmpdir(), 'sql-source-'));
    passwordFile = join(dir, 'password');
    await writeSecret(passwordFile, db.password);
    await db.admin(`
      CREATE TABLE queues (name text, depth bigint, processed numeric, paused boolean, updated timestamptz, owner text);
      INSERT INTO queues VALUES
        ('mail', 3, 1234567890123, false, '2026-01-02T03:04:05.5Z', 'ops'),
        ('sms', NULL, 10.25, true, '1970-01-01T00:00:10Z', NULL);
      CREATE TABLE huge (v numeric);
      INSERT INTO huge VALUES (9007199254740993);
      ALTER TABLE queues OWNER TO exporter;
      ALTER TABLE huge OWNER TO exporter;
    `);
  });
  after(async () => {
    await db?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A config with one sql source named `db` logging in with the password file, its queries given as YAML. */
  const config = (queries: string, extra = '') => `
sources:
  - name: db
    kind: sql
    driver: postgres
    host: 127.0.0.1
    port: ${db.port}
    database: ${db.database}
    user: ${db.user}
    password: { file: ${passwordFile} }
${extra}
    queries:
${queries}
`;
  const lastError = (exporter: TestExporter) => exporter.status().find((s) => s.name === 'db')?.lastError;

  test('one series per row: values, labels, counters as totals, NULLs, exact numerics, booleans, times', async (t) => {
    const exporter = await startTestExporter(
      config(`
      - name: queues
        sql: SELECT name, depth, processed, paused, updated, owner FROM queues WHERE name <> $1
        params: [nobody]
        metrics:
          - { name: queue_depth, value: depth, labels: { queue: name, owner: owner } }
          - { name: queue_processed, type: counter, value: processed, labels: { queue: name } }
          - { name: queue_paused, value: paused, labels: { queue: name } }
          - { name: queue_updated_seconds, value: updated, labels: { queue: name } }`),
    );
    t.after(() => exporter.stop());
    const { body } = await scrape(exporter.url);
    // depth NULL for sms: no series; owner NULL for sms would be an empty label.
    assert.deepEqual(family(body, 'queue_depth'), [['queue_depth{queue="mail",owner="ops"}', 3]]);
    assert.deepEqual(family(body, 'queue_processed_total'), [
      ['queue_processed_total{queue="mail"}', 1234567890123],
      ['queue_processed_total{queue="sms"}', 10.25],
    ]);
    assert.deepEqual(family(body, 'queue_paused'), [
      ['queue_paused{queue="mail"}', 0],
      ['queue_paused{queue="sms"}', 1],
    ]);
    assert.deepEqual(family(body, 'queue_updated_seconds'), [
      ['queue_updated_seconds{queue="mail"}', 1767323045.5],
      ['queue_updated_seconds{queue="sms"}', 10],
    ]);
    assert.deepEqual(family(body, 'custom_exporter_sql_query_rows'), [['custom_exporter_sql_query_rows{source="db",query="queues"}', 2]]);
    assert.equal(family(body, 'custom_exporter_sql_query_duration_seconds').length, 1);
    assert.deepEqual(family(body, 'custom_exporter_source_up'), [['custom_exporter_source_up{source="db"}', 1]]);

    // A counter's value is the column's total as it is now (never added up), and a row that goes away goes at once.
    await db.admin(`UPDATE queues SET processed = 1234567890200 WHERE name = 'mail'; UPDATE queues SET name = 'gone' WHERE name = 'sms'`);
    const next = await scrape(exporter.url);
    assert.deepEqual(family(next.body, 'queue_processed_total'), [
      ['queue_processed_total{queue="mail"}', 1234567890200],
      ['queue_processed_total{queue="gone"}', 10.25],
    ]);
    await db.admin(`UPDATE queues SET name = 'sms' WHERE name = 'gone'; UPDATE queues SET processed = 1234567890123 WHERE name = 'mail'`);
  });

  test('the same numbers reach an OpenTelemetry Collector over OTLP: the counter as a monotonic sum of the total', async () => {
    const file = join(dir, 'otlp.yaml');
    await writeFile(
      file,
      config(`
      - name: queues
        sql: SELECT name, depth, processed FROM queues ORDER BY name
        metrics:
          - { name: queue_depth, value: depth, labels: { queue: name } }
          - { name: queue_processed, type: counter, value: processed, labels: { queue: name } }`),
    );
    const receiver = await (await OtlpReceiver.create('http/protobuf')).listen();
    const cli = await serveCli([`--config.file=${file}`], {
      env: {
        OTEL_METRICS_EXPORTER: 'prometheus,otlp',
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_METRIC_EXPORT_INTERVAL: '500',
        OTEL_METRIC_EXPORT_TIMEOUT: '400',
      },
    });
    try {
      const { metrics } = await receiver.next((e) => e.metrics.has('queue_processed') && e.metrics.has('queue_depth'));
      assert.equal(metrics.get('queue_processed')!.type, 'sum');
      assert.equal(metrics.get('queue_processed')!.monotonic, true);
      assert.deepEqual(
        metrics.get('queue_processed')!.points.map((p) => [p.attributes.queue, p.value]),
        [
          ['mail', 1234567890123],
          ['sms', 10.25],
        ],
      );
      // depth is NULL for sms: no point, as no series on /metrics.
      assert.deepEqual(metrics.get('queue_depth')!.points, [{ attributes: { queue: 'mail' }, value: 3 }]);
    } finally {
      await cli.kill();
      await receiver.close();
    }
  });

  test('a timestamp without time zone and a date are read as UTC, whatever the time zone of the exporter', async (t) => {
    const zone = process.env.TZ;
    process.env.TZ = 'America/New_York';
    t.after(() => {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    });
    const exporter = await startTestExporter(
      config(`
      - name: times
        sql: "SELECT '2026-01-02 03:04:05.25'::timestamp AS ts, '2026-01-02'::date AS d, 'infinity'::timestamp AS forever"
        metrics:
          - { name: at_timestamp, value: ts }
          - { name: at_date, value: d }
          - { name: at_infinity, value: forever }`),
    );
    t.after(() => exporter.stop());
    const { body } = await scrape(exporter.url);
    assert.deepEqual(family(body, 'at_timestamp'), [['at_timestamp', 1767323045.25]]);
    assert.deepEqual(family(body, 'at_date'), [['at_date', 1767312000]]);
    assert.match(body, /^at_infinity \+Inf$/m);
  });

  test('a NULL label is the empty label', async (t) => {
    const exporter = await startTestExporter(
      config(`
      - name: owners
        sql: SELECT name, owner, 1 AS one FROM queues ORDER BY name
        metrics:
          - { name: queue_owner, value: one, labels: { queue: name, owner: owner } }`),
    );
    t.after(() => exporter.stop());
    const { body } = await scrape(exporter.url);
    assert.deepEqual(family(body, 'queue_owner'), [
      ['queue_owner{queue="mail",owner="ops"}', 1],
      ['queue_owner{queue="sms",owner=""}', 1],
    ]);
  });

  test('a number not exactly a float64 beyond ±2^53 fails with reason value, naming the query and the column', async (t) => {
    const exporter = await startTestExporter(
      config(`
      - name: big
        sql: SELECT v FROM huge
        metrics:
          - { name: huge_value, value: v }
      - name: exact
        sql: SELECT 9007199254740992::bigint AS b, 123456789012345678901234567890::numeric * 0 + 9007199254740994 AS n
        metrics:
          - { name: exact_bigint, value: b }
          - { name: exact_numeric, value: n }`),
    );
    t.after(() => exporter.stop());
    const { body } = await scrape(exporter.url);
    // The other query's series survive.
    assert.deepEqual(family(body, 'exact_bigint'), [['exact_bigint', 9007199254740992]]);
    assert.deepEqual(family(body, 'exact_numeric'), [['exact_numeric', 9007199254740994]]);
    assert.deepEqual(family(body, 'huge_value'), []);
    assert.deepEqual(family(body, 'custom_exporter_sql_query_errors_total'), [
      ['custom_exporter_sql_query_errors_total{source="db",query="big",reason="value"}', 1],
    ]);
    assert.deepEqual(family(body, 'custom_exporter_source_up'), [['custom_exporter_source_up{source="db"}', 1]]);

    const alone = await startTestExporter(
      config(`      - { name: big, sql: SELECT v FROM huge, metrics: [{ name: huge_value, value: v }] }`),
    );
    t.after(() => alone.stop());
    const failed = await scrape(alone.url);
    assert.deepEqual(family(failed.body, 'custom_exporter_source_up'), [['custom_exporter_source_up{source="db"}', 0]]);
    assert.match(failed.body, /custom_exporter_source_errors_total\{source="db",reason="value"\} 1/);
    assert.equal(lastError(alone), 'query "big", column "v": 9007199254740993 is not exactly representable as a float64 (beyond ±2^53)');
  });

  test('a failing query and a dropped table fail with reason query; the other queries keep their series', async (t) => {
    await db.admin('CREATE TABLE doomed (v int); INSERT INTO doomed VALUES (7); ALTER TABLE doomed OWNER TO exporter');
    const exporter = await startTestExporter(
      config(`
      - { name: broken, sql: SELEC 1, metrics: [{ name: never, value: x }] }
      - { name: doomed, sql: SELECT v FROM doomed, metrics: [{ name: doomed_value, value: v }] }
      - { name: fine, sql: SELECT 42 AS answer, metrics: [{ name: answer, value: answer }] }`),
    );
    t.after(() => exporter.stop());
    const first = await scrape(exporter.url);
    assert.deepEqual(family(first.body, 'doomed_value'), [['doomed_value', 7]]);
    assert.deepEqual(family(first.body, 'answer'), [['answer', 42]]);
    await db.admin('DROP TABLE doomed');
    const second = await scrape(exporter.url);
    assert.deepEqual(family(second.body, 'doomed_value'), []);
    assert.deepEqual(family(second.body, 'answer'), [['answer', 42]]);
    assert.deepEqual(family(second.body, 'custom_exporter_sql_query_errors_total'), [
      ['custom_exporter_sql_query_errors_total{source="db",query="broken",reason="query"}', 2],
      ['custom_exporter_sql_query_errors_total{source="db",query="doomed",reason="query"}', 1],
    ]);
    assert.deepEqual(family(second.body, 'custom_exporter_source_up'), [['custom_exporter_source_up{source="db"}', 1]]);
  });

  test('a write is refused by the read-only transaction', async (t) => {
    await db.admin('CREATE TABLE written (v int); ALTER TABLE written OWNER TO exporter');
    const exporter = await startTestExporter(
      config(`      - { name: write, sql: "INSERT INTO written VALUES (1) RETURNING v", metrics: [{ name: written_value, value: v }] }`),
    );
    t.after(() => exporter.stop());
    const { body } = await scrape(exporter.url);
    assert.match(body, /custom_exporter_source_errors_total\{source="db",reason="query"\} 1/);
    assert.match(lastError(exporter) ?? '', /^query "write": cannot execute INSERT in a read-only transaction$/);
    assert.deepEqual((await db.admin('SELECT count(*)::int AS n FROM written')).rows, [{ n: 0 }]);
  });

  test('more rows than maxRows fail with reason too_large', async (t) => {
    const exporter = await startTestExporter(
      config(
        `      - { name: many, sql: "SELECT g FROM generate_series(1, 50) g", maxRows: 10, metrics: [{ name: row, value: g, labels: { g: g } }] }`,
      ),
    );
    t.after(() => exporter.stop());
    const { body } = await scrape(exporter.url);
    assert.match(body, /custom_exporter_source_errors_total\{source="db",reason="too_large"\} 1/);
    assert.equal(lastError(exporter), 'query "many": the query returned more than maxRows (10) rows');
  });

  test('a query with more series than global.seriesLimit fails with reason series_limit; the others keep theirs', async (t) => {
    const exporter = await startTestExporter(
      `global: { seriesLimit: 5 }\n${config(`
      - { name: wide, sql: "SELECT g FROM generate_series(1, 6) g", metrics: [{ name: wide_row, value: g, labels: { g: g } }] }
      - { name: narrow, sql: "SELECT g FROM generate_series(1, 5) g", metrics: [{ name: narrow_row, value: g, labels: { g: g } }] }`)}`,
    );
    t.after(() => exporter.stop());
    const { body } = await scrape(exporter.url);
    assert.equal(family(body, 'narrow_row').length, 5);
    assert.deepEqual(family(body, 'wide_row'), []);
    assert.deepEqual(family(body, 'custom_exporter_sql_query_errors_total'), [
      ['custom_exporter_sql_query_errors_total{source="db",query="wide",reason="series_limit"}', 1],
    ]);
    assert.deepEqual(family(body, 'custom_exporter_sql_query_rows'), [
      ['custom_exporter_sql_query_rows{source="db",query="wide"}', 6],
      ['custom_exporter_sql_query_rows{source="db",query="narrow"}', 5],
    ]);
  });

  test('two rows that give one metric the same labels fail the query with reason duplicate', async (t) => {
    const exporter = await startTestExporter(
      config(
        `      - { name: twice, sql: "SELECT 1 AS v, 'a:' AS l, 'b' AS m UNION ALL SELECT 2, 'a', ':b' UNION ALL SELECT 3, 'a:', 'b'", metrics: [{ name: twice_v, value: v, labels: { l: l, m: m } }] }`,
      ),
    );
    t.after(() => exporter.stop());
    const { body } = await scrape(exporter.url);
    assert.match(body, /custom_exporter_source_errors_total\{source="db",reason="duplicate"\} 1/);
    assert.equal(lastError(exporter), 'query "twice": two rows give twice_v the same labels {"l":"a:","m":"b"} (add a label column)');
  });

  /** The backends still running `text` (not this very query; an idle backend shows its last query too). */
  const running = async (text: string) =>
    (await db.admin(`SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()`, [`%${text}%`]))
      .rows;

  test('a slow query is cut on the server at its timeout (statement_timeout)', async (t) => {
    const exporter = await startTestExporter(
      config(
        `      - { name: slow, sql: "SELECT 1 AS v FROM pg_sleep(30) -- statement", timeout: 1s, metrics: [{ name: slow_value, value: v }] }`,
        '    timeout: 20s',
      ),
    );
    t.after(() => exporter.stop());
    const started = performance.now();
    const { body } = await scrape(exporter.url, { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': '25' } });
    assert.ok(performance.now() - started < 10_000, 'the query ran past its 1 s timeout');
    assert.match(body, /custom_exporter_source_errors_total\{source="db",reason="timeout"\} 1/);
    assert.match(lastError(exporter) ?? '', /^query "slow": canceling statement due to statement timeout$/);
    assert.deepEqual(await running('pg_sleep(30) -- statement'), []);
  });

  test('a query still running at the collection deadline is cancelled on the server', async (t) => {
    const exporter = await startTestExporter(
      config(
        `      - { name: slow, sql: "SELECT 1 AS v FROM pg_sleep(30) -- deadline", timeout: 60s, metrics: [{ name: slow_value, value: v }] }`,
        '    timeout: 1s',
      ),
    );
    t.after(() => exporter.stop());
    const scraping = scrape(exporter.url);
    // Positive control: it does run on the server; then pg_cancel_backend ends it long before its 30 s.
    await eventually(async () => assert.equal((await running('pg_sleep(30) -- deadline')).length, 1));
    const { body } = await scraping;
    assert.match(body, /custom_exporter_source_errors_total\{source="db",reason="timeout"\} 1/);
    assert.equal(lastError(exporter), 'collection timed out after 1000 ms');
    await eventually(async () => assert.deepEqual(await running('pg_sleep(30) -- deadline'), []), { timeoutMs: 10_000 });
    const next = await scrape(exporter.url);
    assert.match(next.body, /custom_exporter_source_errors_total\{source="db",reason="timeout"\} 2/);
  });

  test('a password rotated on the server and then in the secret file is picked up without a restart', async (t) => {
    const rotated = randomBytes(12).toString('hex');
    const exporter = await startTestExporter(
      config(`      - { name: who, sql: "SELECT 1 AS v", metrics: [{ name: logged_in, value: v }] }`),
    );
    t.after(async () => {
      await exporter.stop();
      await db.admin(`ALTER ROLE ${db.user} PASSWORD '${db.password}'`);
      await writeSecret(passwordFile, db.password);
    });
    assert.deepEqual(family((await scrape(exporter.url)).body, 'logged_in'), [['logged_in', 1]]);
    await db.admin(`ALTER ROLE ${db.user} PASSWORD '${rotated}'`);
    // New connections with the old password now fail.
    await db.admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${db.user}'`);
    await eventually(async () => {
      const { body } = await scrape(exporter.url);
      assert.match(body, /custom_exporter_source_up\{source="db"\} 0/);
    });
    assert.match(lastError(exporter) ?? '', /^query "who": cannot connect: password authentication failed for user "exporter"$/);
    await writeSecret(passwordFile, rotated);
    await eventually(async () => assert.deepEqual(family((await scrape(exporter.url)).body, 'logged_in'), [['logged_in', 1]]), {
      timeoutMs: 20_000,
    });
  });

  test('a query with interval is polled in the background; collections read its latest poll', async (t) => {
    const exporter = await startTestExporter(
      config(`
      - { name: hourly, sql: "SELECT extract(epoch FROM clock_timestamp()) AS now", interval: 1h, metrics: [{ name: hourly_now, value: now }] }
      - { name: polled, sql: "SELECT extract(epoch FROM clock_timestamp()) AS now", interval: 1s, metrics: [{ name: polled_now, value: now }] }
      - { name: fresh, sql: "SELECT extract(epoch FROM clock_timestamp()) AS now", metrics: [{ name: fresh_now, value: now }] }`),
    );
    t.after(() => exporter.stop());
    const value = (body: string, metric: string) => {
      const [sample] = family(body, metric);
      assert.ok(sample, `no ${metric} yet`);
      return sample[1];
    };
    const first = await eventually(async () => {
      const { body } = await scrape(exporter.url);
      return { hourly: value(body, 'hourly_now'), polled: value(body, 'polled_now') };
    });
    // Scrapes read the hourly query's one poll, while the fresh query runs at each of them.
    const a = (await scrape(exporter.url)).body;
    const b = (await scrape(exporter.url)).body;
    assert.equal(value(a, 'hourly_now'), first.hourly);
    assert.equal(value(b, 'hourly_now'), first.hourly);
    assert.ok(value(b, 'fresh_now') > value(a, 'fresh_now'));
    const later = await eventually(async () => {
      const polled = value((await scrape(exporter.url)).body, 'polled_now');
      assert.ok(polled > first.polled, 'not polled again yet');
      return polled;
    });
    assert.ok(later - first.polled >= 0.9, `polled again after ${later - first.polled} s, not after its 1 s interval`);
  });

  test('a query with minInterval reuses its latest result', async (t) => {
    const exporter = await startTestExporter(
      config(`
      - { name: cached, sql: "SELECT count(*) AS n FROM pg_stat_activity WHERE pid < 0 OR random() >= 0", minInterval: 1h, metrics: [{ name: cached_n, value: n }] }
      - { name: fresh, sql: "SELECT extract(epoch FROM clock_timestamp()) AS now", metrics: [{ name: fresh_now, value: now }] }`),
    );
    t.after(() => exporter.stop());
    const first = await scrape(exporter.url);
    const second = await scrape(exporter.url);
    const rows = (body: string) => family(body, 'custom_exporter_sql_query_duration_seconds').length;
    assert.equal(rows(first.body), 2);
    assert.notDeepEqual(family(first.body, 'fresh_now'), family(second.body, 'fresh_now'));
    assert.deepEqual(family(first.body, 'cached_n'), family(second.body, 'cached_n'));
  });
});

describe('kind: sql config', () => {
  test('check-config warns about a query that is not a SELECT or WITH, and still accepts the file', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'sql-config-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'config.yaml');
    await writeFile(
      file,
      `sources:
  - name: db
    kind: sql
    driver: postgres
    dsn: postgres://reader@127.0.0.1/app
    queries:
      - { name: ok, sql: "  -- counts\\n  WITH x AS (SELECT 1 AS v) SELECT v FROM x", metrics: [{ name: ok_v, value: v }] }
      - { name: purge, sql: "DELETE FROM jobs RETURNING 1 AS v", metrics: [{ name: purged, value: v }] }
`,
    );
    const run = await runCli(['check-config', file]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(
      run.stderr,
      'warning: source db: queries[1] (purge): not a SELECT or WITH: it runs in a read-only transaction, where a write fails\n',
    );
  });

  test('a config that gives both dsn and connection fields is refused with exit code 2, naming the field', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'sql-config-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'config.yaml');
    await writeFile(
      file,
      `sources:
  - name: db
    kind: sql
    driver: postgres
    dsn: postgres://reader@127.0.0.1/app
    host: db.internal
    queries:
      - { name: ok, sql: SELECT 1 AS v, metrics: [{ name: ok_v, value: v }] }
`,
    );
    const run = await runCli(['check-config', file]);
    assert.equal(run.code, 2);
    assert.match(
      run.stderr,
      new RegExp(
        `^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:6:5: sources\\[0\\]\\.host: give either dsn or the connection fields`,
        'm',
      ),
    );
  });

  test('a dsn that is not a URL is refused at load without quoting it', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'sql-config-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'config.yaml');
    await writeFile(
      file,
      `sources:
  - name: db
    kind: sql
    driver: postgres
    dsn: "host=db user=reader password=hunter2secret"
    queries:
      - { name: ok, sql: SELECT 1 AS v, metrics: [{ name: ok_v, value: v }] }
`,
    );
    const run = await runCli(['check-config', file]);
    assert.equal(run.code, 2);
    assert.equal(run.stderr, `${file}:5:5: sources[0].dsn: is not a URL such as postgres://user:password@host:5432/database\n`);
  });

  test("the README's PostgreSQL example is a valid config", async (t) => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const marker = readme.indexOf('<!-- sql: postgres -->\n```yaml\n');
    assert.ok(marker >= 0, 'no <!-- sql: postgres --> example');
    const start = readme.indexOf('\n', readme.indexOf('```yaml', marker)) + 1;
    const yaml = readme.slice(start, readme.indexOf('```', start));
    const dir = await mkdtemp(join(tmpdir(), 'sql-readme-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    // The files it names must exist when it is loaded: its absolute paths, under a temp dir.
    const local = yaml.replaceAll(
      /(file|caFile): \/([\w./-]+)/g,
      (_, field: string, path: string) => `${field}: ${join(dir, path.replaceAll('/', '_'))}`,
    );
    for (const [, path] of local.matchAll(/(?:file|caFile): ([\w./-]+)/g)) await writeFile(path!, 'x\n');
    const config = parseConfig(local, join(dir, 'README.md'), builtinSources);
    assert.deepEqual(
      config.sources.map((s) => [s.name, s.definition.kind]),
      [['app-db', 'sql']],
    );
  });
});
