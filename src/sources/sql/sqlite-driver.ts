import { type ChildProcess, fork } from 'node:child_process';
import { statSync } from 'node:fs';
import { fileType } from '../untrusted/file-type.ts';
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
import type { SqliteJob, SqliteReply } from './sqlite-child.ts';

/**
 * SQLite through Node's built-in `node:sqlite`, read-only (issue 15). Each query runs in a child process so a slow
 * one never blocks serving; at the deadline the child is killed, the only way to stop a query that never returns
 * to JavaScript (see sqlite-child.ts). `file` is already resolved against the config file's directory by the config layer.
 */

// A child kept this long serves the next scrapes (15–60 s apart) without paying its start (~50 ms) again.
const IDLE_MS = 120_000;
const CHILD_URL = new URL(`./sqlite-child.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url);

type ColumnType = SqlColumn['type'];

// SQLite's column affinity rules (https://sqlite.org/datatype3.html §3.1), refined for BOOL and DATE/TIME names.
function declaredType(declared: string | null): ColumnType | undefined {
  if (!declared) return undefined;
  const name = declared.toUpperCase();
  if (name.includes('INT')) return 'integer';
  if (/CHAR|CLOB|TEXT/.test(name)) return 'text';
  if (name.includes('BLOB')) return 'other';
  if (/REAL|FLOA|DOUB/.test(name)) return 'float';
  if (name.includes('BOOL')) return 'boolean';
  if (/DATE|TIME/.test(name)) return 'time';
  return 'decimal';
}

// An expression column has no declared type: its first non-NULL value says what it is.
function valueType(rows: readonly unknown[][], index: number): ColumnType {
  const value = rows.find((row) => row[index] !== null)?.[index];
  if (typeof value === 'bigint') return 'integer';
  if (typeof value === 'number') return 'float';
  if (typeof value === 'string') return 'text';
  return 'other';
}

function exactInteger(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

function convert(value: unknown, type: ColumnType): SqlValue {
  if (value === null || value === undefined) return null;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  switch (type) {
    case 'boolean':
      return typeof value === 'bigint' || typeof value === 'number' ? value !== 0n && value !== 0 : (value as string);
    case 'time':
      // SQLite's date functions produce UTC text ('YYYY-MM-DD HH:MM:SS') or Unix seconds.
      if (typeof value === 'string') return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`);
      return new Date(Number(value) * 1000);
    case 'float':
      return typeof value === 'bigint' ? Number(value) : (value as number | string);
    default:
      return typeof value === 'bigint' ? exactInteger(value) : (value as number | string);
  }
}

class SqliteConnection implements SqlConnection {
  readonly #file: string;
  readonly #maxIdle: number;
  readonly #idle: { child: ChildProcess; timer: NodeJS.Timeout }[] = [];
  // Children running a query: close() kills them too, rather than leave a runaway query to its deadline.
  readonly #busy = new Set<ChildProcess>();

  constructor(file: string, maxIdle: number) {
    this.#file = file;
    this.#maxIdle = maxIdle;
  }

  async query(sql: string, options: QueryOptions): Promise<SqlResult> {
    options.signal.throwIfAborted();
    // A FIFO or a device would block SQLite's open() in the child for good: refuse it like file sources do.
    let stats: ReturnType<typeof statSync>;
    try {
      stats = statSync(this.#file);
    } catch (err) {
      throw new SqlConnectionError(`cannot open ${this.#file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    if (!stats.isFile()) throw new SqlConnectionError(`cannot open ${this.#file}: not a regular file (${fileType(stats)})`);
    const child = this.#take();
    const job: SqliteJob = { file: this.#file, sql, params: options.params, maxRows: options.maxRows };
    const reply = await new Promise<SqliteReply>((resolve, reject) => {
      const settle = () => {
        this.#busy.delete(child);
        clearTimeout(deadline);
        options.signal.removeEventListener('abort', onAbort);
        child.off('message', resolveReply).off('error', onError).off('exit', onExit);
      };
      const stop = (err: Error) => {
        settle();
        child.kill('SIGKILL');
        reject(err);
      };
      const resolveReply = (answer: SqliteReply) => {
        settle();
        this.#release(child);
        resolve(answer);
      };
      const onError = (err: Error) => stop(new Error(`the SQLite process failed: ${err.message}`));
      const onExit = (code: number | null, signal: string | null) => stop(new Error(`the SQLite process exited with ${code ?? signal}`));
      const onAbort = () => stop(new SqlTimeoutError(`the query on ${this.#file} was cancelled at the collection's deadline`));
      const deadline = setTimeout(
        () => stop(new SqlTimeoutError(`the query on ${this.#file} ran longer than ${options.timeoutMs} ms`)),
        options.timeoutMs,
      );
      child.on('message', resolveReply).on('error', onError).on('exit', onExit);
      this.#busy.add(child);
      options.signal.addEventListener('abort', onAbort, { once: true });
      // Only while a query runs does the child keep the exporter's event loop (and a test) alive.
      child.ref();
      child.channel?.ref();
      child.send(job);
    });
    if ('failure' in reply) {
      if (reply.failure === 'row_limit') throw new RowLimitError(reply.message);
      if (reply.failure === 'connection') throw new SqlConnectionError(`cannot open ${this.#file}: ${reply.message}`);
      throw new Error(reply.message);
    }
    const columns = reply.columns.map(
      (column, index): SqlColumn => ({ name: column.name, type: declaredType(column.declared) ?? valueType(reply.rows, index) }),
    );
    return { columns, rows: reply.rows.map((row) => row.map((value, index) => convert(value, columns[index]?.type ?? 'other'))) };
  }

  async close(): Promise<void> {
    const idle = this.#idle.splice(0);
    for (const { timer } of idle) clearTimeout(timer);
    await Promise.all([...idle.map(({ child }) => child), ...this.#busy].map(stopChild));
  }

  #take(): ChildProcess {
    const idle = this.#idle.pop();
    if (idle) {
      clearTimeout(idle.timer);
      return idle.child;
    }
    // Structured clone ('advanced') carries bigint, Buffer and null as they are; no inherited flags or environment.
    const child = fork(CHILD_URL, [], { serialization: 'advanced', execArgv: [], env: {}, stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
    // A failed spawn is reported by the query's own listener; this one keeps a late error from crashing the exporter.
    child.on('error', () => {});
    return child;
  }

  #release(child: ChildProcess): void {
    child.unref();
    child.channel?.unref();
    if (this.#idle.length >= this.#maxIdle) {
      void stopChild(child);
      return;
    }
    const forget = () => {
      const at = this.#idle.indexOf(entry);
      if (at >= 0) this.#idle.splice(at, 1);
      clearTimeout(entry.timer);
    };
    const entry = {
      child,
      timer: setTimeout(() => {
        forget();
        void stopChild(child);
      }, IDLE_MS).unref(),
    };
    this.#idle.push(entry);
    // One that dies while idle (killed from outside) is not handed to the next query.
    child.once('exit', forget);
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

export const sqliteDriver: SqlDriver = {
  open(settings: ConnectionSettings, pool: { readonly min: number; readonly max: number }): SqlConnection {
    if (!settings.file) throw new SqlConnectionError('an sqlite connection needs a file');
    return new SqliteConnection(settings.file, Math.max(1, pool.max));
  },
};
