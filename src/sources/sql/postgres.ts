import pg from 'pg';
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
 * The PostgreSQL driver (`pg`), imported by the first `driver: postgres` source. Each query runs in its own
 * `BEGIN READ ONLY` transaction with `SET LOCAL statement_timeout`, so the server ends it even when the exporter
 * cannot; at the collection's deadline the backend is also cancelled from a second connection and the connection
 * discarded.
 */
export const postgresDriver: SqlDriver = {
  open: (settings, pool) => new PostgresPool(settings, pool),
};

// Long enough for a TLS handshake over a slow link; a server that does not answer fails the query as `connection`.
const CONNECT_TIMEOUT_MS = 10_000;

// How long a cancelled query may take to end before its connection is closed under it.
const CANCEL_GRACE_MS = 5_000;

// SQLSTATE classes and codes that mean the connection, not the query, failed
// (https://www.postgresql.org/docs/15/errcodes-appendix.html).
const CONNECTION_STATES = /^(08|28|3D|53|57P0[1-4])/;
const QUERY_CANCELED = '57014';

class PostgresPool implements SqlConnection {
  readonly #config: pg.PoolConfig;
  readonly #pool: pg.Pool;

  constructor(settings: ConnectionSettings, { min, max }: { readonly min: number; readonly max: number }) {
    this.#config = {
      host: settings.socket ?? settings.address ?? settings.host,
      port: settings.port,
      database: settings.database,
      user: settings.user,
      password: settings.password,
      ssl: sslOptions(settings),
      application_name: settings.options?.application_name ?? 'custom-exporter',
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      types: { getTypeParser: typeParser as pg.CustomTypesConfig['getTypeParser'] },
    };
    this.#pool = new pg.Pool({ ...this.#config, min, max });
    // An idle connection that the server closes (a restart) emits `error`: the pool drops it and connects anew.
    this.#pool.on('error', () => {});
  }

  async query(sql: string, options: QueryOptions): Promise<SqlResult> {
    const { signal } = options;
    if (signal.aborted) throw new SqlTimeoutError('the collection deadline passed before the query started');
    const client = await this.#connect(signal);
    // Errors while checked out come with the query that hit them; this stops an unhandled `error` event in between.
    const ignore = () => {};
    client.on('error', ignore);
    let discard = false;
    let onAbort = () => {};
    // At the deadline the caller gets its answer at once, whatever the server or the network does next.
    const deadline = new Promise<never>((_, reject) => {
      onAbort = () => {
        discard = true;
        void this.#cancel(client);
        reject(new SqlTimeoutError('cancelled at the collection deadline'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
    const work = (async () => {
      // One round trip: a simple query may hold several statements (no parameters here; the number is ours).
      await client.query(`BEGIN READ ONLY; SET LOCAL statement_timeout = ${Math.max(1, Math.ceil(options.timeoutMs))}`);
      const result = await readRows(client, sql, options, () => {
        discard = true;
        void this.#cancel(client);
      });
      await client.query('ROLLBACK');
      return result;
    })();
    // Settled later when the deadline won: the connection is discarded then.
    work.catch(() => {});
    deadline.catch(() => {});
    try {
      return await Promise.race([work, deadline]);
    } catch (err) {
      discard = true;
      throw classify(err);
    } finally {
      signal.removeEventListener('abort', onAbort);
      // A discarded connection is closed once its query has settled, so the cancel can still name its backend; one
      // whose query never settles (an unreachable server) is closed after a grace period, freeing its pool slot.
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        clearTimeout(grace);
        client.off('error', ignore);
        client.release(discard);
      };
      const grace = setTimeout(() => {
        discard = true;
        release();
      }, CANCEL_GRACE_MS);
      grace.unref();
      void work.catch(() => {}).finally(release);
    }
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }

  async #connect(signal: AbortSignal): Promise<pg.PoolClient> {
    const connecting = this.#pool.connect();
    const aborted = new Promise<never>((_, reject) => {
      const onAbort = () => reject(new SqlTimeoutError('the collection deadline passed while connecting'));
      signal.addEventListener('abort', onAbort, { once: true });
      void connecting.finally(() => signal.removeEventListener('abort', onAbort)).catch(() => {});
    });
    try {
      return await Promise.race([connecting, aborted]);
    } catch (err) {
      // A connection that arrives after the deadline goes back to the pool unused.
      if (signal.aborted)
        connecting.then(
          (client) => client.release(),
          () => {},
        );
      if (err instanceof SqlTimeoutError) throw err;
      throw new SqlConnectionError(`cannot connect: ${(err as Error).message}`, { cause: err });
    }
  }

  /** pg_cancel_backend from a second connection: the server stops working on a query nobody waits for. */
  async #cancel(client: pg.PoolClient): Promise<void> {
    const pid = (client as pg.PoolClient & { processID?: number }).processID;
    if (pid === undefined) return;
    const canceller = new pg.Client({ ...this.#config, query_timeout: CONNECT_TIMEOUT_MS });
    canceller.on('error', () => {});
    try {
      await canceller.connect();
      await canceller.query('SELECT pg_cancel_backend($1)', [pid]);
    } catch {
      // The statement timeout ends the query on the server anyway.
    } finally {
      await canceller.end().catch(() => {});
    }
  }
}

/** Runs `sql`, keeping at most `maxRows` rows: one more stops reading (the query is cancelled and the connection discarded). */
function readRows(client: pg.PoolClient, sql: string, options: QueryOptions, stop: () => void): Promise<SqlResult> {
  return new Promise((resolve, reject) => {
    const config: pg.QueryArrayConfig = { text: sql, values: [...options.params], rowMode: 'array' };
    const query = new pg.Query(config);
    const rows: SqlValue[][] = [];
    let over = false;
    // With a `row` listener and no callback, pg keeps no rows of its own.
    query.on('row', (row: unknown) => {
      if (over) return;
      if (rows.length === options.maxRows) {
        over = true;
        stop();
        reject(new RowLimitError(`the query returned more than maxRows (${options.maxRows}) rows`));
        return;
      }
      rows.push((row as unknown[]).map(sqlValue));
    });
    query.on('error', (err: Error) => {
      if (!over) reject(err);
    });
    query.on('end', (result) => {
      if (!over) resolve({ columns: result.fields.map(column), rows });
    });
    client.query(query);
  });
}

function classify(err: unknown): Error {
  if (err instanceof RowLimitError || err instanceof SqlTimeoutError || err instanceof SqlConnectionError) return err;
  const code = (err as { code?: unknown }).code;
  const message = (err as Error).message ?? String(err);
  if (code === QUERY_CANCELED) return new SqlTimeoutError(message, { cause: err });
  if (typeof code === 'string' && CONNECTION_STATES.test(code)) return new SqlConnectionError(message, { cause: err });
  // Node's socket errors (ECONNRESET, EPIPE) and pg's own "Connection terminated" have no SQLSTATE.
  if (typeof code === 'string' && code.startsWith('E')) return new SqlConnectionError(message, { cause: err });
  if (/connection terminated|not queryable|ended/i.test(message)) return new SqlConnectionError(message, { cause: err });
  return err instanceof Error ? err : new Error(message);
}

// Type OIDs from pg_type (src/include/catalog/pg_type.dat).
const COLUMN_TYPES: Readonly<Record<number, SqlColumn['type']>> = {
  16: 'boolean',
  20: 'integer',
  21: 'integer',
  23: 'integer',
  26: 'integer',
  700: 'float',
  701: 'float',
  1700: 'decimal',
  25: 'text',
  1042: 'text',
  1043: 'text',
  19: 'text',
  1082: 'time',
  1114: 'time',
  1184: 'time',
};

function column(field: pg.FieldDef): SqlColumn {
  return { name: field.name, type: COLUMN_TYPES[field.dataTypeID] ?? 'other' };
}

// pg returns int8 and numeric as exact text, json as objects and arrays as arrays: the latter two as JSON text.
function sqlValue(value: unknown): SqlValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return value;
  if (value instanceof Date || Buffer.isBuffer(value)) return value;
  return JSON.stringify(value);
}

// A `timestamp` (without time zone) and a `date` name no zone: read as UTC, as PostgreSQL stores them, rather than in
// the exporter's local zone (pg's default). `infinity` stays text, which the kind reads as ±Inf.
const TIMESTAMP = 1114;
const DATE = 1082;

function typeParser(oid: number, format?: 'text' | 'binary'): (text: string) => unknown {
  if (oid !== TIMESTAMP && oid !== DATE) return pg.types.getTypeParser(oid, format ?? 'text');
  return (text) => {
    const date = new Date(oid === DATE ? `${text}T00:00:00Z` : `${text.replace(' ', 'T')}Z`);
    return Number.isNaN(date.getTime()) ? text : date;
  };
}

function sslOptions(settings: ConnectionSettings): pg.PoolConfig['ssl'] {
  const { tls } = settings;
  const mode = settings.options?.sslmode;
  if (tls === undefined && (mode === undefined || mode === 'disable')) return undefined;
  // Connected to a resolved address: the certificate is still checked against (and SNI still names) the host name.
  const servername = settings.address !== undefined && settings.host !== undefined ? { servername: settings.host } : {};
  if (tls?.insecureSkipVerify || mode === 'require') return { rejectUnauthorized: false, ...servername };
  return { rejectUnauthorized: true, ca: tls?.ca, ...servername };
}
