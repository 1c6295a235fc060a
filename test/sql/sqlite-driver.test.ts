import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { type QueryOptions, RowLimitError, type SqlConnection, SqlConnectionError, SqlTimeoutError } from '../../src/sources/sql/driver.ts';
import { sqliteDriver } from '../../src/sources/sql/sqlite-driver.ts';
import { eventually } from '../support/eventually.ts';

/** This process's children running the SQLite query runner. */
function sqliteChildren(): number[] {
  const children = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(' ').filter(Boolean);
  return children.map(Number).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('sqlite-child');
    } catch {
      return false;
    }
  });
}

const options = (overrides: Partial<QueryOptions> = {}): QueryOptions => ({
  params: [],
  timeoutMs: 5000,
  maxRows: 1000,
  signal: new AbortController().signal,
  ...overrides,
});

describe('sqlite driver', () => {
  let dir: string;
  let file: string;
  let connection: SqlConnection;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sqlite-driver-'));
    file = join(dir, 'app.db');
    const db = new DatabaseSync(file);
    db.exec(`
      CREATE TABLE jobs (name TEXT, pending INTEGER, big INTEGER, ratio REAL, amount DECIMAL(20,4), done BOOLEAN, at DATETIME);
      INSERT INTO jobs VALUES ('mail', 3, 9223372036854775807, 0.5, 12.25, 1, '2026-01-02 03:04:05');
      INSERT INTO jobs VALUES ('sms', NULL, -9223372036854775808, NULL, NULL, 0, NULL);
    `);
    db.close();
    connection = sqliteDriver.open({ file }, { min: 0, max: 2 });
  });
  after(async () => {
    await connection.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('returns values, NULLs, exact 64-bit integers, booleans and timestamps with their column types', async () => {
    const result = await connection.query('SELECT name, pending, big, ratio, amount, done, at FROM jobs ORDER BY name', options());
    assert.deepEqual(
      result.columns.map((column) => [column.name, column.type]),
      [
        ['name', 'text'],
        ['pending', 'integer'],
        ['big', 'integer'],
        ['ratio', 'float'],
        ['amount', 'decimal'],
        ['done', 'boolean'],
        ['at', 'time'],
      ],
    );
    assert.deepEqual(result.rows, [
      ['mail', 3, 2n ** 63n - 1n, 0.5, 12.25, true, new Date('2026-01-02T03:04:05Z')],
      ['sms', null, -(2n ** 63n), null, null, false, null],
    ]);
  });

  it('binds parameters and types expression columns by their values', async () => {
    const result = await connection.query('SELECT count(*) AS n, ? AS label FROM jobs WHERE pending > ?', options({ params: ['x', 1] }));
    assert.deepEqual(result.columns, [
      { name: 'n', type: 'integer' },
      { name: 'label', type: 'text' },
    ]);
    assert.deepEqual(result.rows, [[1, 'x']]);
  });

  it('refuses a write: the database is opened read-only', async () => {
    await assert.rejects(connection.query("INSERT INTO jobs (name) VALUES ('x')", options()), /readonly database/);
  });

  it('stops reading at maxRows and rejects with a RowLimitError', async () => {
    await assert.rejects(
      connection.query('WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT i FROM n', options({ maxRows: 10 })),
      (err: Error) => err instanceof RowLimitError && /more than 10 rows/.test(err.message),
    );
  });

  it('stops a query that runs forever at the deadline while the event loop stays responsive', async () => {
    const forever = 'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n';
    let ticks = 0;
    let longestGap = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
      ticks++;
    }, 10);
    const started = performance.now();
    try {
      await assert.rejects(
        connection.query(forever, options({ timeoutMs: 1000 })),
        (err: Error) => err instanceof SqlTimeoutError && /longer than 1000 ms/.test(err.message),
      );
    } finally {
      clearInterval(timer);
    }
    const elapsed = performance.now() - started;
    // Node rounds timers to whole milliseconds: one may fire a fraction of a millisecond early by this clock.
    assert.ok(elapsed >= 990 && elapsed < 3000, `cut after ${elapsed} ms`);
    assert.ok(ticks >= 20, `the event loop ticked ${ticks} times in ${elapsed} ms`);
    assert.ok(longestGap < 500, `the event loop was blocked for ${longestGap} ms`);
    // The terminated worker is replaced: the next query works.
    assert.deepEqual((await connection.query('SELECT 1 AS one', options())).rows, [[1]]);
  });

  it('cancels when the collection aborts', async () => {
    const controller = new AbortController();
    const running = connection.query('WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n', {
      ...options({ timeoutMs: 60_000 }),
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error('deadline')), 200);
    await assert.rejects(running, (err: Error) => err instanceof SqlTimeoutError && /deadline/.test(err.message));
  });

  it('close() kills a query still running, and no SQLite process is left', async () => {
    const closing = sqliteDriver.open({ file }, { min: 0, max: 1 });
    const running = closing.query(
      'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n',
      options({ timeoutMs: 60_000 }),
    );
    const failed = assert.rejects(running, /SQLite process exited with SIGKILL/);
    await eventually(() => assert.equal(sqliteChildren().length, 1));
    await closing.close();
    await failed;
    await eventually(() => assert.deepEqual(sqliteChildren(), []));
  });

  it('refuses a FIFO without opening it', async () => {
    const fifo = join(dir, 'fifo.db');
    execFileSync('/usr/bin/mkfifo', [fifo]);
    const fifoConnection = sqliteDriver.open({ file: fifo }, { min: 0, max: 1 });
    await assert.rejects(
      fifoConnection.query('SELECT 1', options()),
      (err: Error) => err instanceof SqlConnectionError && err.message.includes('not a regular file (a FIFO)'),
    );
    await fifoConnection.close();
  });

  it('reports a missing file as a connection error', async () => {
    const missing = sqliteDriver.open({ file: join(dir, 'missing.db') }, { min: 0, max: 1 });
    await assert.rejects(
      missing.query('SELECT 1', options()),
      (err: Error) => err instanceof SqlConnectionError && /ENOENT/.test(err.message),
    );
    await missing.close();
  });
});
