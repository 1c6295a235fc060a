import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type QueryOptions, RowLimitError, type SqlConnection, SqlConnectionError, SqlTimeoutError } from '../../src/sources/sql/driver.ts';
import { mysqlDriver } from '../../src/sources/sql/mysql-driver.ts';
import { makeTestPki, type TestPki } from '../support/certs.ts';
import { eventually } from '../support/eventually.ts';
import { MARIADB_MISSING, type MariaDb, startMariaDb } from '../support/mariadb.ts';
import { toolPath } from '../support/tools.ts';

const options = (overrides: Partial<QueryOptions> = {}): QueryOptions => ({
  params: [],
  timeoutMs: 5000,
  maxRows: 1000,
  signal: new AbortController().signal,
  ...overrides,
});

describe('mysql driver against a real MariaDB 10.11', () => {
  let db: MariaDb | undefined;
  let connection: SqlConnection;

  let pki: TestPki | undefined;

  before(async () => {
    const openssl = toolPath('openssl');
    if (!openssl && process.env.CI === 'true') throw new Error('openssl not found (install it with: apt-get install openssl)');
    pki = openssl ? makeTestPki(openssl) : undefined;
    db = await startMariaDb(pki && { tls: { cert: pki.serverCert, key: pki.serverKey } });
    if (!db) return;
    await db.admin(`CREATE TABLE app.jobs (name VARCHAR(20), pending INT, big BIGINT, ubig BIGINT UNSIGNED, amount DECIMAL(30,10),
      ratio DOUBLE, done BOOLEAN, at DATETIME, stamp TIMESTAMP NULL, raw VARBINARY(4))`);
    await db.admin(`INSERT INTO app.jobs VALUES
      ('mail', 3, 9223372036854775807, 18446744073709551615, 12345678901234567890.0123456789, 0.5, TRUE, '2026-01-02 03:04:05', '2026-01-02 03:04:05', 0x01ff),
      ('sms', NULL, -9223372036854775808, 0, NULL, NULL, FALSE, NULL, NULL, NULL)`);
    const { host, port, user, password, database } = db;
    connection = mysqlDriver.open({ host, port, user, password, database }, { min: 1, max: 2 });
  });
  after(async () => {
    await connection?.close();
    await db?.stop();
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  // The server's own view of running statements, from another (root) connection.
  const running = async (pattern: string) =>
    (await db?.admin("SELECT id, info FROM information_schema.PROCESSLIST WHERE info LIKE ? AND info NOT LIKE '%PROCESSLIST%'", [
      `%${pattern}%`,
    ])) ?? [];

  it('returns values, NULLs, exact BIGINT and DECIMAL, booleans and timestamps with their column types', async (t) => {
    if (!db) return t.skip(MARIADB_MISSING);
    const result = await connection.query(
      'SELECT name, pending, big, ubig, amount, ratio, done, at, stamp, raw FROM jobs ORDER BY name',
      options(),
    );
    assert.deepEqual(
      result.columns.map((column) => [column.name, column.type]),
      [
        ['name', 'text'],
        ['pending', 'integer'],
        ['big', 'integer'],
        ['ubig', 'integer'],
        ['amount', 'decimal'],
        ['ratio', 'float'],
        ['done', 'boolean'],
        ['at', 'time'],
        ['stamp', 'time'],
        ['raw', 'other'],
      ],
    );
    assert.deepEqual(result.rows, [
      [
        'mail',
        3,
        2n ** 63n - 1n,
        2n ** 64n - 1n,
        '12345678901234567890.0123456789',
        0.5,
        true,
        new Date('2026-01-02T03:04:05Z'),
        new Date('2026-01-02T03:04:05Z'),
        Buffer.from([0x01, 0xff]),
      ],
      ['sms', null, -(2n ** 63n), 0, null, null, false, null, null, null],
    ]);
  });

  it('binds parameters, never interpolates them', async (t) => {
    if (!db) return t.skip(MARIADB_MISSING);
    const result = await connection.query(
      'SELECT count(*) AS n, ? AS label FROM jobs WHERE name = ?',
      options({ params: ["x'); --", 'mail'] }),
    );
    assert.deepEqual(result.rows, [[1, "x'); --"]]);
  });

  it('refuses writes and DDL: the transaction and the session are read-only', async (t) => {
    if (!db) return t.skip(MARIADB_MISSING);
    await assert.rejects(connection.query("INSERT INTO jobs (name) VALUES ('x')", options()), /read.only/i);
    await assert.rejects(connection.query('CREATE TABLE sneaky (i INT)', options()), /read.only/i);
    await assert.rejects(connection.query('DELETE FROM jobs', options()), /read.only/i);
    assert.deepEqual(await db.admin('SELECT count(*) AS n FROM app.jobs'), [{ n: '2' }]);
    assert.deepEqual(await db.admin("SELECT count(*) AS n FROM information_schema.TABLES WHERE table_name = 'sneaky'"), [{ n: '0' }]);
    // The connection given back after a query error still works.
    assert.deepEqual((await connection.query('SELECT 1 AS one', options())).rows, [[1]]);
  });

  it('stops reading at maxRows and rejects with a RowLimitError', async (t) => {
    if (!db) return t.skip(MARIADB_MISSING);
    await assert.rejects(
      connection.query('SELECT seq FROM seq_1_to_10000000', options({ maxRows: 10 })),
      (err: Error) => err instanceof RowLimitError && /more than 10 rows/.test(err.message),
    );
    await eventually(async () => assert.deepEqual(await running('seq_1_to_10000000'), []));
  });

  it('cuts SELECT SLEEP(10) at the statement timeout on the server', async (t) => {
    if (!db) return t.skip(MARIADB_MISSING);
    const started = performance.now();
    await assert.rejects(
      connection.query('SELECT SLEEP(10) AS slept', options({ timeoutMs: 1000 })),
      // The server's max_statement_time fired, not only the client's deadline.
      (err: Error) => err instanceof SqlTimeoutError && /longer than 1000 ms: .*max_statement_time/.test(err.message),
    );
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 900 && elapsed < 4000, `cut after ${elapsed} ms`);
    await eventually(async () => assert.deepEqual(await running('SLEEP(10)'), []));
  });

  it('kills the query on the server when the collection aborts', async (t) => {
    if (!db) return t.skip(MARIADB_MISSING);
    const controller = new AbortController();
    const query = connection.query('SELECT SLEEP(30) AS slept', { ...options({ timeoutMs: 60_000 }), signal: controller.signal });
    // Positive control: the query is seen running on the server before the abort.
    await eventually(async () => assert.equal((await running('SLEEP(30)')).length, 1));
    controller.abort(new Error('deadline'));
    await assert.rejects(query, (err: Error) => err instanceof SqlTimeoutError && /cancelled/.test(err.message));
    await eventually(async () => assert.deepEqual(await running('SLEEP(30)'), []));
    assert.deepEqual((await connection.query('SELECT 2 AS two', options())).rows, [[2]]);
  });

  it('gives up waiting for a pool connection at the deadline, and the query never runs', async (t) => {
    if (!db) return t.skip(MARIADB_MISSING);
    const { host, port, user, password, database } = db;
    const single = mysqlDriver.open({ host, port, user, password, database }, { min: 0, max: 1 });
    const busy = new AbortController();
    try {
      const holding = single.query('SELECT SLEEP(20) AS held', { ...options({ timeoutMs: 60_000 }), signal: busy.signal });
      await eventually(async () => assert.equal((await running('SLEEP(20)')).length, 1));
      const waiting = new AbortController();
      const queued = single.query('SELECT SLEEP(21) AS queued', { ...options({ timeoutMs: 60_000 }), signal: waiting.signal });
      const started = performance.now();
      waiting.abort(new Error('deadline'));
      await assert.rejects(queued, (err: Error) => err instanceof SqlTimeoutError && /waiting for a connection/.test(err.message));
      assert.ok(performance.now() - started < 1_000);
      busy.abort(new Error('deadline'));
      await assert.rejects(holding, SqlTimeoutError);
      // The pool's only connection is free again and the abandoned query was never sent.
      assert.deepEqual((await single.query('SELECT 6 AS six', options())).rows, [[6]]);
      assert.deepEqual(await running('SLEEP(21)'), []);
    } finally {
      busy.abort();
      await single.close();
    }
  });

  it('connects over TLS, checking the server certificate against the given CA', async (t) => {
    if (!db) return t.skip(MARIADB_MISSING);
    if (!pki) return t.skip('openssl not found (install it with: apt-get install openssl)');
    const { host, port, user, password, database } = db;
    const trusted = mysqlDriver.open(
      { host, port, user, password, database, tls: { ca: readFileSync(pki.caCert, 'utf8') } },
      { min: 0, max: 1 },
    );
    const stranger = mysqlDriver.open(
      { host, port, user, password, database, tls: { ca: readFileSync(pki.otherCaCert, 'utf8') } },
      { min: 0, max: 1 },
    );
    try {
      const result = await trusted.query(
        "SELECT variable_value AS cipher FROM information_schema.SESSION_STATUS WHERE variable_name = 'Ssl_cipher'",
        options(),
      );
      assert.match(String(result.rows[0]?.[0]), /^(TLS_|ECDHE)/);
      await assert.rejects(
        stranger.query('SELECT 1', options()),
        (err: Error) => err instanceof SqlConnectionError && /certificate/i.test(err.message),
      );
      // A plain connection sees no cipher: the positive control for the TLS one above.
      assert.deepEqual(
        (
          await connection.query(
            "SELECT variable_value AS cipher FROM information_schema.SESSION_STATUS WHERE variable_name = 'Ssl_cipher'",
            options(),
          )
        ).rows,
        [['']],
      );
    } finally {
      await trusted.close();
      await stranger.close();
    }
  });

  it('connects over a Unix socket', async (t) => {
    if (!db) return t.skip(MARIADB_MISSING);
    const { socket, user, password, database } = db;
    const local = mysqlDriver.open({ socket, user, password, database }, { min: 0, max: 1 });
    try {
      // A TCP connection's host would be 127.0.0.1:<port>.
      const result = await local.query('SELECT host FROM information_schema.PROCESSLIST WHERE id = CONNECTION_ID()', options());
      assert.deepEqual(result.rows, [['localhost']]);
    } finally {
      await local.close();
    }
  });

  it('reports a wrong password as a connection error', async (t) => {
    if (!db) return t.skip(MARIADB_MISSING);
    const wrong = mysqlDriver.open(
      { host: db.host, port: db.port, user: db.user, password: 'wrong', database: db.database },
      { min: 0, max: 1 },
    );
    try {
      await assert.rejects(
        wrong.query('SELECT 1', options()),
        (err: Error) => err instanceof SqlConnectionError && /Access denied/.test(err.message) && !err.message.includes('wrong'),
      );
    } finally {
      await wrong.close();
    }
  });

  it('reports a stopped server as a connection error and reconnects once it is back', async (t) => {
    if (!db) return t.skip(MARIADB_MISSING);
    assert.deepEqual((await connection.query('SELECT 3 AS three', options())).rows, [[3]]);
    await db.stopServer();
    await assert.rejects(connection.query('SELECT 4 AS four', options()), (err: Error) => err instanceof SqlConnectionError);
    await db.startServer();
    await eventually(async () => assert.deepEqual((await connection.query('SELECT 5 AS five', options())).rows, [[5]]));
  });
});
