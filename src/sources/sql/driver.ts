// The interface between `kind: sql` and its database drivers (issue 15). Owned by the sql branch, which replaces
// this copy at merge; the drivers on the sqldrivers branch are built against it.
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
  readonly params: readonly (string | number | boolean | null)[]; // bound, never interpolated
  readonly timeoutMs: number; // server-side statement timeout AND client deadline
  readonly maxRows: number; // more rows → the driver stops reading and rejects with a RowLimitError
  readonly signal: AbortSignal; // the collection's deadline: cancel the query server-side, recycle the connection
}
export interface SqlConnection {
  /** Runs one read-only query (a read-only transaction where the database has one). */
  query(sql: string, options: QueryOptions): Promise<SqlResult>;
  close(): Promise<void>;
}
export interface SqlDriver {
  /** Opens a small pool (min/max connections) from already-resolved connection settings (secrets read by the caller). */
  open(settings: ConnectionSettings, pool: { readonly min: number; readonly max: number }): SqlConnection;
}
export interface ConnectionSettings {
  readonly host?: string;
  readonly port?: number;
  readonly database?: string;
  readonly user?: string;
  readonly password?: string;
  readonly socket?: string;
  readonly file?: string;
  readonly tls?: { readonly caFile?: string; readonly insecureSkipVerify?: boolean };
  readonly options?: Readonly<Record<string, string>>;
}
export class RowLimitError extends Error {}
export class SqlConnectionError extends Error {} // could not connect / connection lost (reason `connection`)
export class SqlTimeoutError extends Error {} // statement timeout or cancelled at the deadline (reason `timeout`)
// Any other error from the server is a query error (reason `query`).
