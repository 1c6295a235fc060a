/**
 * What `kind: sql` needs from a database driver (postgres.ts, and the MySQL and SQLite drivers): a small pool that
 * runs one read-only, bounded query at a time per connection. Each driver module is imported by the first sql source
 * that names it, so no database client is loaded when no sql source is configured.
 */

export type SqlValue = string | number | bigint | boolean | Date | Buffer | null;

export interface SqlColumn {
  readonly name: string;
  readonly type: 'integer' | 'decimal' | 'float' | 'text' | 'boolean' | 'time' | 'other';
}

export interface SqlResult {
  readonly columns: readonly SqlColumn[];
  readonly rows: readonly (readonly SqlValue[])[];
}

export interface QueryOptions {
  /** Bound by the driver, never interpolated into the statement. */
  readonly params: readonly (string | number | boolean | null)[];
  /** The server-side statement timeout, and the client's deadline. */
  readonly timeoutMs: number;
  /** More rows: the driver stops reading and rejects with a RowLimitError. */
  readonly maxRows: number;
  /** The collection's deadline: the driver cancels the query on the server and discards the connection. */
  readonly signal: AbortSignal;
}

export interface SqlConnection {
  /** Runs one read-only query (in a read-only transaction where the database has one). */
  query(sql: string, options: QueryOptions): Promise<SqlResult>;
  close(): Promise<void>;
}

/** Connection settings with every secret already read by the caller. */
export interface ConnectionSettings {
  readonly host?: string;
  /**
   * The address `host` resolved to, connected to instead of resolving it again (a probe judged it against its
   * module's allowlist); `host` stays the name TLS verifies the server as.
   */
  readonly address?: string;
  readonly port?: number;
  readonly database?: string;
  readonly user?: string;
  readonly password?: string;
  readonly socket?: string;
  readonly file?: string;
  /** `ca`: the PEM text the server's certificate is checked against (read by the kind, not on the event loop). */
  readonly tls?: { readonly ca?: string; readonly insecureSkipVerify?: boolean };
  readonly options?: Readonly<Record<string, string>>;
}

export interface SqlDriver {
  /** Opens a small pool (min/max connections); connections are made when first needed. */
  open(settings: ConnectionSettings, pool: { readonly min: number; readonly max: number }): SqlConnection;
}

/** The query returned more than `maxRows` rows. */
export class RowLimitError extends Error {
  override name = 'RowLimitError';
}

/** Could not connect, or the connection was lost (reason `connection`). */
export class SqlConnectionError extends Error {
  override name = 'SqlConnectionError';
}

/** The statement timeout passed, or the query was cancelled at the collection's deadline (reason `timeout`). */
export class SqlTimeoutError extends Error {
  override name = 'SqlTimeoutError';
}
