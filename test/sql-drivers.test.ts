// kind: sql with the MySQL/MariaDB and SQLite drivers, through the real built CLI (dist/main.js): a real MariaDB
// 10.11 (test/support/mariadb.ts, one server for the file) and a SQLite file written by the test beside the config.
// Values, labels, counters, NULLs, booleans and times for both; a slow query cut on the server (MariaDB) and a
// runaway one killed with its process (SQLite) while /healthz keeps answering; a FIFO refused; a missing file: field.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { runCli, type ServingCli, serveCli } from './support/cli.ts';
import { eventually } from './support/eventually.ts';
import { MARIADB_MISSING, type MariaDb, startMariaDb } from './support/mariadb.ts';
import { family, scrape } from './support/scrape.ts';

const RUNAWAY = 'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) AS c FROM n';

/** The YAML block the README marks with `<!-- sql: name -->`. */
function readmeExample(name: string): string {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const marker = readme.indexOf(`<!-- sql: ${name} -->\n\`\`\`yaml\n`);
  assert.ok(marker >= 0, `no <!-- sql: ${name} --> example`);
  const start = readme.indexOf('\n', readme.indexOf('```yaml', marker)) + 1;
  return readme.slice(start, readme.indexOf('```', start));
}

/** The exporter's child processes running the SQLite query runner, and whether each is on a CPU now. */
function sqliteChildren(pid: number): { pid: number; running: boolean }[] {
  const children: { pid: number; running: boolean }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) !== pid || !readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('sqlite-child')) continue;
      children.push({ pid: Number(entry), running: state === 'R' });
    } catch {
      // The process ended while being looked at.
    }
  }
  return children;
}

describe('kind: sql with driver mysql (MariaDB) and sqlite, through the real CLI', () => {
  let db: MariaDb | undefined;
  let dir: string;
  let cli: ServingCli | undefined;

  before(async () => {
    db = await startMariaDb();
    dir = await mkdtemp(join(tmpdir(), 'sql-drivers-'));
    const lite = new DatabaseSync(join(dir, 'app.db'));
    lite.exec(`
      CREATE TABLE queues (name TEXT, depth INTEGER, processed DECIMAL(20,2), paused BOOLEAN, updated DATETIME);
      INSERT INTO queues VALUES ('mail', 3, 1234567890123.25, 0, '2026-01-02 03:04:05'), ('sms', NULL, 10.5, 1, '1970-01-01 00:00:10');
    `);
    lite.close();
    execFileSync('/usr/bin/mkfifo', [join(dir, 'fifo.db')]);
    if (!db) return;
    await db.admin(`CREATE TABLE app.queues (name VARCHAR(20), depth BIGINT, processed DECIMAL(20,2), paused BOOLEAN, updated DATETIME)`);
    await db.admin(`INSERT INTO app.queues VALUES ('mail', 3, 1234567890123.25, FALSE, '2026-01-02 03:04:05'),
      ('sms', NULL, 10.5, TRUE, '1970-01-01 00:00:10')`);
    await writeFile(join(dir, 'password'), db.password, { mode: 0o600 });
    const queues = (prefix: string, placeholder: string) => `
      - name: queues
        sql: SELECT name, depth, processed, paused, updated FROM queues WHERE name <> ${placeholder}
        params: [nobody]
        metrics:
          - { name: ${prefix}_queue_depth, value: depth, labels: { queue: name } }
          - { name: ${prefix}_queue_processed, type: counter, value: processed, labels: { queue: name } }
          - { name: ${prefix}_queue_paused, value: paused, labels: { queue: name } }
          - { name: ${prefix}_queue_updated_seconds, value: updated, labels: { queue: name } }`;
    // The SQLite file is named relative to the config file, and the exporter runs from another directory.
    await writeFile(
      join(dir, 'config.yaml'),
      `sources:
  - name: maria
    kind: sql
    driver: mysql
    host: 127.0.0.1
    port: ${db.port}
    database: ${db.database}
    user: ${db.user}
    password: { file: password }
    queries:${queues('maria', '?')}
      - { name: slow, sql: "SELECT SLEEP(10) AS slept", timeout: 1s, metrics: [{ name: maria_slept, value: slept }] }
  - name: lite
    kind: sql
    driver: sqlite
    file: app.db
    queries:${queues('lite', '?')}
      - { name: runaway, sql: "${RUNAWAY}", timeout: 1s, metrics: [{ name: lite_runaway, value: c }] }
  - name: fifo
    kind: sql
    driver: sqlite
    file: fifo.db
    queries:
      - { name: one, sql: "SELECT 1 AS one", metrics: [{ name: fifo_one, value: one }] }
`,
    );
    cli = await serveCli(['--config.file', join(dir, 'config.yaml')], { cwd: tmpdir() });
  });
  after(async () => {
    await cli?.kill();
    await db?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('both drivers: one series per row, slow queries cut at their timeout, /healthz answers meanwhile', async (t) => {
    if (!db || !cli) return t.skip(MARIADB_MISSING);
    const exporter = cli;
    const scraping = scrape(exporter.url, { timeoutMs: 8_000 });
    // While the runaway SQLite query burns a CPU in its own process, the exporter still answers probes at once.
    await eventually(() =>
      assert.ok(
        sqliteChildren(exporter.pid).some((child) => child.running),
        'no SQLite query running',
      ),
    );
    const probeStarted = performance.now();
    const health = await fetch(`${exporter.url}/healthz`, { signal: AbortSignal.timeout(1_000) });
    assert.equal(health.status, 200);
    assert.ok(performance.now() - probeStarted < 1_000);
    const { body } = await scraping;

    for (const prefix of ['maria', 'lite']) {
      assert.deepEqual(family(body, `${prefix}_queue_depth`), [[`${prefix}_queue_depth{queue="mail"}`, 3]]);
      assert.deepEqual(family(body, `${prefix}_queue_processed_total`), [
        [`${prefix}_queue_processed_total{queue="mail"}`, 1234567890123.25],
        [`${prefix}_queue_processed_total{queue="sms"}`, 10.5],
      ]);
      assert.deepEqual(family(body, `${prefix}_queue_paused`), [
        [`${prefix}_queue_paused{queue="mail"}`, 0],
        [`${prefix}_queue_paused{queue="sms"}`, 1],
      ]);
      assert.deepEqual(family(body, `${prefix}_queue_updated_seconds`), [
        [`${prefix}_queue_updated_seconds{queue="mail"}`, 1767323045],
        [`${prefix}_queue_updated_seconds{queue="sms"}`, 10],
      ]);
    }
    assert.deepEqual(family(body, 'custom_exporter_sql_query_errors_total'), [
      ['custom_exporter_sql_query_errors_total{source="maria",query="slow",reason="timeout"}', 1],
      ['custom_exporter_sql_query_errors_total{source="lite",query="runaway",reason="timeout"}', 1],
      ['custom_exporter_sql_query_errors_total{source="fifo",query="one",reason="connection"}', 1],
    ]);
    assert.deepEqual(family(body, 'custom_exporter_source_up'), [
      ['custom_exporter_source_up{source="maria"}', 1],
      ['custom_exporter_source_up{source="lite"}', 1],
      ['custom_exporter_source_up{source="fifo"}', 0],
    ]);
    assert.deepEqual(family(body, 'maria_slept'), []);
    assert.deepEqual(family(body, 'lite_runaway'), []);
    // Nothing keeps running after the deadline: the MariaDB statement is gone, the SQLite process killed.
    await eventually(async () =>
      assert.deepEqual(
        await db?.admin("SELECT id FROM information_schema.PROCESSLIST WHERE info LIKE '%SLEEP(10)%' AND info NOT LIKE '%PROCESSLIST%'"),
        [],
      ),
    );
    await eventually(() =>
      assert.deepEqual(
        sqliteChildren(exporter.pid).filter((child) => child.running),
        [],
      ),
    );
    const fifoFailure = exporter.logs().find((line) => line.source === 'fifo' && line.msg === 'source collection failed');
    assert.equal(fifoFailure?.err, `query "one": cannot open ${join(dir, 'fifo.db')}: not a regular file (a FIFO)`);
    assert.ok(!exporter.stderr().includes(db.password), 'the password was logged');
  });

  test("the README's SQLite example runs as it is, beside the database file", async (t) => {
    await writeFile(join(dir, 'readme-sqlite.yaml'), readmeExample('sqlite'));
    const readme = await serveCli(['--config.file', join(dir, 'readme-sqlite.yaml')], { cwd: tmpdir() });
    t.after(() => readme.kill());
    const { body } = await scrape(readme.url);
    assert.deepEqual(family(body, 'app_queue_depth'), [['app_queue_depth{queue="mail"}', 3]]);
    assert.deepEqual(family(body, 'app_queue_paused'), [
      ['app_queue_paused{queue="mail"}', 0],
      ['app_queue_paused{queue="sms"}', 1],
    ]);
    assert.equal(family(body, 'app_queue_updated_seconds').length, 2);
  });

  test("the README's MySQL example is a valid config", async () => {
    // Its absolute secret and CA paths moved into the test's directory, where they exist.
    const yaml = readmeExample('mysql').replaceAll(/ \/(run|etc)\//g, ` ${dir}/$1/`);
    for (const [, path] of yaml.matchAll(/(?:file|caFile): ([\w./-]+)/g)) {
      await mkdir(dirname(path!), { recursive: true });
      await writeFile(path!, 'x\n');
    }
    await writeFile(join(dir, 'readme-mysql.yaml'), yaml);
    const run = await runCli(['check-config', join(dir, 'readme-mysql.yaml')]);
    assert.equal(run.stderr, '');
    assert.equal(run.code, 0);
    assert.match(run.stdout, /valid \(1 source: shop-db\)/);
  });

  test('check-config: driver sqlite without file names the field', async () => {
    const file = join(dir, 'nofile.yaml');
    await writeFile(
      file,
      'sources:\n  - name: lite\n    kind: sql\n    driver: sqlite\n    queries:\n      - { name: one, sql: "SELECT 1 AS one", metrics: [{ name: one, value: one }] }\n',
    );
    const run = await runCli(['check-config', file]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, new RegExp(`^${file}:\\d+:\\d+: sources\\[0\\]\\.file: is required by driver sqlite\\n$`));
  });
});
