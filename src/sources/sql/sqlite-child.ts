import { DatabaseSync } from 'node:sqlite';

/**
 * Runs SQLite queries in a child process, off the exporter's event loop (issue 15). A query stuck inside SQLite
 * (an aggregate over an endless recursive CTE) never returns to JavaScript, so neither a worker's terminate() nor
 * interrupt() from another thread can stop it (node:sqlite has no progress handler): the exporter kills this
 * process instead. The database is opened read-only for each job.
 */

export interface SqliteJob {
  readonly file: string;
  readonly sql: string;
  readonly params: readonly (string | number | boolean | null)[];
  readonly maxRows: number;
}
export type SqliteReply =
  | { readonly columns: readonly { name: string; declared: string | null }[]; readonly rows: unknown[][] }
  | { readonly failure: 'row_limit' | 'query' | 'connection'; readonly message: string };

function run(job: SqliteJob): SqliteReply {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(job.file, { readOnly: true });
  } catch (err) {
    return { failure: 'connection', message: (err as Error).message };
  }
  try {
    const statement = db.prepare(job.sql);
    // Every INTEGER as a bigint: a value past ±2^53 must not be rounded on the way out (issue 15).
    statement.setReadBigInts(true);
    statement.setReturnArrays(true);
    const columns = statement.columns().map((column) => ({ name: column.name, declared: column.type }));
    const rows: unknown[][] = [];
    // SQLite has no boolean type: bound as 0/1 like its own TRUE/FALSE.
    const params = job.params.map((param) => (typeof param === 'boolean' ? Number(param) : param));
    for (const row of statement.iterate(...params)) {
      if (rows.length === job.maxRows) return { failure: 'row_limit', message: `the query returned more than ${job.maxRows} rows` };
      rows.push(row as unknown as unknown[]);
    }
    return { columns, rows };
  } catch (err) {
    return { failure: 'query', message: (err as Error).message };
  } finally {
    db.close();
  }
}

process.on('message', (job: SqliteJob) => process.send?.(run(job)));
