import { connect } from 'node:net';
import mysql, { type FieldPacket, type Pool, type PoolConnection, type PoolOptions, type QueryError } from 'mysql2';
import {
  type ConnectionSettings,
  type QueryOptions,
  RowLimitError,
  type SqlColumn,
  type SqlConnection,
  SqlConnectionError,
  type SqlDriver,
  type SqlResult,
  SqlTimeoutError,
  type SqlValue,
} from './driver.ts';

/**
 * MySQL and MariaDB through `mysql2` (issue 15). Every query runs in `START TRANSACTION READ ONLY` on a session that
 * is itself read-only (so DDL, which commits implicitly, is refused too), with a server-side statement timeout:
 * MariaDB's `SET STATEMENT max_statement_time=<s> FOR <query>`, MySQL's `max_execution_time` session variable
 * (milliseconds; MySQL applies it to SELECT only). The flavour is read from VERSION() once per pool. At the
 * collection's deadline the query is killed from another connection (`KILL QUERY`) and its connection discarded.
 * Rows are streamed and reading stops past maxRows. BIGINT and DECIMAL arrive as strings and are returned exactly.
 */

// The client's own deadline comes this long after the server's timeout, so that the server's error normally wins.
const CLIENT_GRACE_MS = 500;
// Connections beyond `min` are closed after this long idle.
const IDLE_MS = 60_000;
const CONNECT_TIMEOUT_MS = 10_000;

// Server errors that mean the statement ran out of time or was killed: MariaDB ER_STATEMENT_TIMEOUT,
// MySQL ER_QUERY_TIMEOUT, and ER_QUERY_INTERRUPTED (KILL QUERY).
const TIMEOUT_ERRORS = new Set([1969, 3024, 1317]);
// Errors that mean no usable connection: could not reach or log in, or the link broke.
const CONNECTION_CODES = new Set(['ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR', 'ER_BAD_DB_ERROR', 'ER_HOST_NOT_PRIVILEGED']);

type Flavour = 'mariadb' | 'mysql';

const { Types } = mysql;
const BINARY_CHARSET = 63;

function columnType(field: FieldPacket): SqlColumn['type'] {
  switch (field.columnType) {
    case Types.TINY:
      // TINYINT(1) is how MySQL spells BOOLEAN.
      return field.columnLength === 1 ? 'boolean' : 'integer';
    case Types.SHORT:
    case Types.LONG:
    case Types.INT24:
    case Types.LONGLONG:
    case Types.YEAR:
      return 'integer';
    case Types.DECIMAL:
    case Types.NEWDECIMAL:
      return 'decimal';
    case Types.FLOAT:
    case Types.DOUBLE:
      return 'float';
    case Types.DATE:
    case Types.NEWDATE:
    case Types.DATETIME:
    case Types.TIMESTAMP:
      return 'time';
    case Types.VARCHAR:
    case Types.VAR_STRING:
    case Types.STRING:
    case Types.TINY_BLOB:
    case Types.MEDIUM_BLOB:
    case Types.LONG_BLOB:
    case Types.BLOB:
    case Types.ENUM:
    case Types.SET:
    case Types.JSON:
    case Types.TIME:
      return field.characterSet === BINARY_CHARSET && field.columnType !== Types.TIME ? 'other' : 'text';
    default:
      return 'other';
  }
}

function convert(value: unknown, type: SqlColumn['type']): SqlValue {
  if (value === null || value === undefined) return null;
  if (type === 'boolean') return value !== 0;
  if (type === 'integer' && typeof value === 'string') {
    // bigNumberStrings: BIGINT always arrives as text; a value past ±2^53 stays a bigint.
    const exact = BigInt(value);
    return exact >= BigInt(Number.MIN_SAFE_INTEGER) && exact <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(exact) : exact;
  }
  return value as SqlValue;
}

function isConnectionError(err: QueryError): boolean {
  return err.fatal || CONNECTION_CODES.has(err.code) || /^(E[A-Z]+|PROTOCOL_.*|HANDSHAKE_.*)$/.test(err.code ?? '');
}

class MysqlConnection implements SqlConnection {
  readonly #options: PoolOptions;
  readonly #pool: Pool;
  readonly #where: string;
  #flavour: Promise<Flavour> | undefined;
  readonly #kills = new Set<Promise<void>>();
  // The pool hands back the same objects: each is set up once, before its first query.
  readonly #prepared = new WeakSet<PoolConnection>();

  constructor(settings: ConnectionSettings, pool: { readonly min: number; readonly max: number }) {
    this.#where = settings.socket ?? `${settings.host ?? 'localhost'}:${settings.port ?? 3306}`;
    this.#options = {
      host: settings.host,
      port: settings.port,
      socketPath: settings.socket,
      // A resolved address: the socket goes there, while `host` stays the name TLS sends (SNI) and checks.
      ...(settings.address !== undefined && { stream: () => connect(settings.port ?? 3306, settings.address) }),
      user: settings.user,
      password: settings.password,
      database: settings.database,
      ssl: settings.tls && {
        ca: settings.tls.ca,
        rejectUnauthorized: !settings.tls.insecureSkipVerify,
      },
      // Exact numbers (issue 15): BIGINT and DECIMAL as strings, never through a float64.
      supportBigNumbers: true,
      bigNumberStrings: true,
      decimalNumbers: false,
      jsonStrings: true,
      // DATETIME read as UTC, matching the session time zone set below for TIMESTAMP.
      timezone: 'Z',
      dateStrings: false,
      multipleStatements: false,
      connectTimeout: CONNECT_TIMEOUT_MS,
      enableKeepAlive: true,
    };
    this.#pool = mysql.createPool({ ...this.#options, connectionLimit: Math.max(1, pool.max), maxIdle: pool.min, idleTimeout: IDLE_MS });
  }

  async query(sql: string, options: QueryOptions): Promise<SqlResult> {
    options.signal.throwIfAborted();
    const connection = await this.#connect(options.signal);
    let flavour: Flavour;
    try {
      if (!this.#prepared.has(connection)) {
        // UTC, so TIMESTAMP and DATETIME read alike; read-only for the whole session, so that DDL (which commits
        // implicitly, ending the read-only transaction) is refused as well.
        await this.#run(connection, "SET SESSION time_zone = '+00:00'");
        await this.#run(connection, 'SET SESSION TRANSACTION READ ONLY');
        this.#prepared.add(connection);
      }
      flavour = await this.#flavourOf(connection);
      if (flavour === 'mysql') await this.#run(connection, `SET SESSION max_execution_time = ${Math.ceil(options.timeoutMs)}`);
      await this.#run(connection, 'START TRANSACTION READ ONLY');
    } catch (err) {
      connection.destroy();
      throw this.#mapError(err as QueryError, options.timeoutMs);
    }
    const seconds = (options.timeoutMs / 1000).toFixed(3);
    const text = flavour === 'mariadb' ? `SET STATEMENT max_statement_time = ${seconds} FOR ${sql}` : sql;
    let result: SqlResult;
    try {
      result = await this.#stream(connection, text, options);
    } catch (err) {
      if (err instanceof RowLimitError || err instanceof SqlTimeoutError || err instanceof SqlConnectionError) throw err;
      // A query error leaves the connection usable: end the transaction and give it back.
      await this.#finish(connection);
      throw this.#mapError(err as QueryError, options.timeoutMs);
    }
    await this.#finish(connection);
    return result;
  }

  async close(): Promise<void> {
    await Promise.all(this.#kills);
    await new Promise<void>((resolve) => this.#pool.end(() => resolve()));
  }

  #flavourOf(connection: PoolConnection): Promise<Flavour> {
    this.#flavour ??= new Promise<Flavour>((resolve, reject) => {
      connection.query<mysql.RowDataPacket[]>('SELECT VERSION() AS version', (err, rows) => {
        if (err) return reject(err);
        resolve(/mariadb/i.test(String(rows[0]?.version)) ? 'mariadb' : 'mysql');
      });
    }).catch((err: unknown) => {
      this.#flavour = undefined;
      throw err;
    });
    return this.#flavour;
  }

  // mysql2's pool queues a request until a connection is free, without a deadline: at the collection's end the wait
  // is given up, and the connection that comes later goes straight back to the pool, its query never sent.
  #connect(signal: AbortSignal): Promise<PoolConnection> {
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(new SqlTimeoutError(`gave up waiting for a connection to ${this.#where} at the collection's deadline`));
      signal.addEventListener('abort', onAbort, { once: true });
      this.#pool.getConnection((err, connection) => {
        signal.removeEventListener('abort', onAbort);
        if (err) reject(new SqlConnectionError(`cannot connect to ${this.#where}: ${err.message}`));
        else if (signal.aborted) connection.release();
        else resolve(connection);
      });
    });
  }

  #run(connection: PoolConnection, sql: string): Promise<void> {
    return new Promise((resolve, reject) => connection.query(sql, (err) => (err ? reject(err) : resolve())));
  }

  async #finish(connection: PoolConnection): Promise<void> {
    try {
      await this.#run(connection, 'ROLLBACK');
      connection.release();
    } catch {
      connection.destroy();
    }
  }

  #stream(connection: PoolConnection, sql: string, options: QueryOptions): Promise<SqlResult> {
    return new Promise((resolve, reject) => {
      let columns: SqlColumn[] = [];
      const rows: SqlValue[][] = [];
      let done = false;
      const finish = () => {
        done = true;
        clearTimeout(deadline);
        options.signal.removeEventListener('abort', onAbort);
      };
      // The server keeps running a query whose client went away: kill it from another connection, then drop ours.
      const cancel = (err: Error) => {
        if (done) return;
        finish();
        this.#kill(connection);
        reject(err);
      };
      const onAbort = () => cancel(new SqlTimeoutError(`the query on ${this.#where} was cancelled at the collection's deadline`));
      const deadline = setTimeout(
        () => cancel(new SqlTimeoutError(`the query on ${this.#where} ran longer than ${options.timeoutMs} ms`)),
        options.timeoutMs + CLIENT_GRACE_MS,
      );
      options.signal.addEventListener('abort', onAbort, { once: true });
      connection
        .query({ sql, values: [...options.params], rowsAsArray: true })
        .on('fields', (fields: FieldPacket[]) => {
          columns = fields.map((field) => ({ name: field.name, type: columnType(field) }));
        })
        .on('result', (row: unknown) => {
          if (done) return;
          if (rows.length === options.maxRows) {
            cancel(new RowLimitError(`the query returned more than ${options.maxRows} rows`));
            return;
          }
          rows.push((row as unknown[]).map((value, index) => convert(value, columns[index]?.type ?? 'other')));
        })
        .on('error', (err: QueryError) => {
          if (done) return;
          finish();
          if (isConnectionError(err)) {
            connection.destroy();
            reject(new SqlConnectionError(`lost the connection to ${this.#where}: ${err.message}`));
          } else if (TIMEOUT_ERRORS.has(err.errno ?? 0)) {
            connection.destroy();
            reject(new SqlTimeoutError(`the query on ${this.#where} ran longer than ${options.timeoutMs} ms: ${err.message}`));
          } else reject(err);
        })
        .on('end', () => {
          if (done) return;
          finish();
          resolve({ columns, rows });
        });
    });
  }

  #kill(connection: PoolConnection): void {
    const threadId = connection.threadId;
    const kill = new Promise<void>((resolve) => {
      const killer = mysql.createConnection(this.#options);
      killer.on('error', () => {});
      killer.query(`KILL QUERY ${Number(threadId)}`, () => {
        killer.destroy();
        connection.destroy();
        resolve();
      });
    });
    this.#kills.add(kill);
    void kill.finally(() => this.#kills.delete(kill));
  }

  #mapError(err: QueryError, timeoutMs: number): Error {
    if (err instanceof SqlConnectionError) return err;
    if (isConnectionError(err)) return new SqlConnectionError(`lost the connection to ${this.#where}: ${err.message}`);
    if (TIMEOUT_ERRORS.has(err.errno ?? 0))
      return new SqlTimeoutError(`the query on ${this.#where} ran longer than ${timeoutMs} ms: ${err.message}`);
    return new Error(err.message);
  }
}

export const mysqlDriver: SqlDriver = {
  open: (settings, pool) => new MysqlConnection(settings, pool),
};
