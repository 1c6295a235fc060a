import { performance } from 'node:perf_hooks';
import type { BatchObservableResult, Observable } from '@opentelemetry/api';
import { z } from 'zod';
import { instrumentOptions, SELF_METRICS } from '../../telemetry/self-metrics.ts';
import { CollectionError, type FailureReason } from '../collection-error.ts';
import { configPath } from '../config-path.ts';
import { Redactor } from '../redact.ts';
import { type SecretReader, secretSchema, textOrSecret, textReader } from '../secret.ts';
import { defineSource } from '../source.ts';
import {
  type ConnectionSettings,
  RowLimitError,
  type SqlConnection,
  SqlConnectionError,
  type SqlResult,
  SqlTimeoutError,
} from './driver.ts';
import { SQL_DRIVERS, type SqlDriverName } from './drivers.ts';
import { querySchema, type SqlMetric, type SqlQuery } from './query-schema.ts';
import { labelText, metricValue } from './values.ts';

const driverNames = Object.keys(SQL_DRIVERS) as [SqlDriverName, ...SqlDriverName[]];

function sqlOptions(configDir: string) {
  return z
    .strictObject({
      driver: z.enum(driverNames),
      /** A URL such as postgres://user:password@host:5432/db?sslmode=require; a secret, never logged. */
      dsn: textOrSecret(configDir, z.string().min(1)).optional(),
      host: z.string().min(1).optional(),
      port: z.int().min(1).max(65535).optional(),
      /** A Unix socket directory or file, instead of host and port. */
      socket: z.string().min(1).optional(),
      /** The database file (SQLite); relative to the config file. */
      file: configPath(configDir).optional(),
      database: z.string().min(1).optional(),
      user: z.string().min(1).optional(),
      password: secretSchema(configDir).optional(),
      tls: z.strictObject({ caFile: configPath(configDir).optional(), insecureSkipVerify: z.boolean().default(false) }).optional(),
      /** Driver-specific connection options (such as sslmode, application_name). */
      options: z.record(z.string(), z.string()).default({}),
      /** Connections kept open (min) and at most in use (max): queries beyond max wait for a free one. */
      pool: z.strictObject({ min: z.int().min(0).max(10).default(1), max: z.int().min(1).max(10).default(2) }).prefault({}),
      queries: z.array(querySchema).min(1, 'at least one query is required'),
    })
    .superRefine((options, ctx) => {
      if (options.dsn !== undefined) {
        for (const field of ['host', 'port', 'socket', 'database', 'user', 'password'] as const)
          if (options[field] !== undefined)
            ctx.addIssue({ code: 'custom', path: [field], message: 'give either dsn or the connection fields' });
      }
      if (options.driver === 'sqlite' && options.file === undefined)
        ctx.addIssue({ code: 'custom', path: ['file'], message: 'is required by driver sqlite' });
      if (options.pool.min > options.pool.max) ctx.addIssue({ code: 'custom', path: ['pool', 'min'], message: 'is more than pool.max' });
      const seen = new Map<string, string>();
      options.queries.forEach((query, q) => {
        if (options.queries.findIndex((other) => other.name === query.name) < q)
          ctx.addIssue({ code: 'custom', path: ['queries', q, 'name'], message: `another query is named "${query.name}"` });
        query.metrics.forEach((metric, m) => {
          const where = seen.get(metric.name);
          if (where !== undefined)
            ctx.addIssue({
              code: 'custom',
              path: ['queries', q, 'metrics', m, 'name'],
              message: `"${metric.name}" is already a metric of ${where}`,
            });
          seen.set(metric.name, `query "${query.name}"`);
        });
      });
    });
}

type SqlOptions = z.output<ReturnType<typeof sqlOptions>>;

// After an outage, connecting is tried again after 0.5 s, then twice as long each time up to 8 s, not at every scrape.
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 8_000;

/**
 * `kind: sql`: runs each query (read-only, bounded) per collection and maps its rows to series, one per row. A
 * failing query drops only its own series (counted in custom_exporter_sql_query_errors_total); the source fails
 * when the database cannot be reached or every query failed.
 */
export const sqlSource = defineSource({
  kind: 'sql',
  description: 'Rows of SQL queries (PostgreSQL, MySQL/MariaDB, SQLite) mapped to metrics',
  options: ({ configDir }) => sqlOptions(configDir),
  async setup({ name, meter, options, collectionSignal, logger, signal, seriesLimit }) {
    const redactor = new Redactor();
    const driver = await SQL_DRIVERS[options.driver]();
    const settings = await settingsReader(options, redactor);
    const instruments = new Map<string, Observable>();
    for (const query of options.queries) for (const metric of query.metrics) instruments.set(metric.name, instrument(meter, metric));
    const { sqlQueryDuration, sqlQueryRows, sqlQueryErrors } = SELF_METRICS;
    const duration = meter.createObservableGauge(sqlQueryDuration.name, instrumentOptions(sqlQueryDuration));
    const rows = meter.createObservableGauge(sqlQueryRows.name, instrumentOptions(sqlQueryRows));
    const errors = meter.createObservableCounter(sqlQueryErrors.name, instrumentOptions(sqlQueryErrors));
    const errorCounts = new Map<string, { query: string; reason: FailureReason; count: number }>();
    const cached = new Map<string, { at: number; series: Series[] }>();

    // The pool, reopened when a secret (password, dsn) changes; connecting waits `retryMs` after a failure.
    let pool: { key: string; connection: SqlConnection } | undefined;
    let retry = { at: 0, ms: 0 };
    signal.addEventListener('abort', () => void pool?.connection.close().catch(() => {}), { once: true });
    const connection = async (): Promise<SqlConnection> => {
      const current = await settings();
      const key = JSON.stringify(current);
      if (pool?.key !== key) {
        void pool?.connection.close().catch(() => {});
        pool = { key, connection: driver.open(current, options.pool) };
      }
      return pool.connection;
    };

    meter.addBatchObservableCallback(
      redactor.guard(async (result) => {
        const now = Date.now();
        if (now < retry.at)
          throw new CollectionError(
            'connection',
            `the database was unreachable: connecting again in ${Math.ceil((retry.at - now) / 1000)}s`,
          );
        const deadline = collectionSignal();
        const db = await connection();
        const outcomes = await Promise.all(
          options.queries.map(async (query) => {
            const started = performance.now();
            const attributes = { source: name, query: query.name };
            try {
              const reuse = cached.get(query.name);
              if (query.minInterval !== undefined && reuse && Date.now() - reuse.at < query.minInterval)
                return { query, series: reuse.series };
              const answer = await db.query(query.sql, {
                params: query.params,
                timeoutMs: query.timeout,
                maxRows: query.maxRows,
                signal: deadline,
              });
              result.observe(rows, answer.rows.length, attributes);
              const series = toSeries(query, answer, seriesLimit);
              cached.set(query.name, { at: Date.now(), series });
              return { query, series };
            } catch (err) {
              cached.delete(query.name);
              const failure = asCollectionError(err, query);
              const key = `${query.name}\0${failure.reason}`;
              const counted = errorCounts.get(key) ?? { query: query.name, reason: failure.reason, count: 0 };
              counted.count++;
              errorCounts.set(key, counted);
              return { query, failure };
            } finally {
              result.observe(duration, (performance.now() - started) / 1000, attributes);
            }
          }),
        );
        for (const { query, reason, count } of errorCounts.values()) result.observe(errors, count, { source: name, query, reason });
        const failures = outcomes.flatMap((outcome) => (outcome.failure ? [outcome.failure] : []));
        const unreachable = failures.find((failure) => failure.reason === 'connection');
        if (unreachable) {
          retry = { ms: Math.min(MAX_RETRY_MS, Math.max(FIRST_RETRY_MS, retry.ms * 2)), at: 0 };
          retry.at = Date.now() + retry.ms;
          throw unreachable;
        }
        retry = { at: 0, ms: 0 };
        if (failures.length === outcomes.length) throw failures[0]!;
        for (const failure of failures) logger.warn({ source: name, reason: failure.reason }, redactor.text(failure.message));
        for (const outcome of outcomes)
          for (const { metric, value, attributes } of outcome.series ?? []) observe(result, instruments.get(metric)!, value, attributes);
      }),
      [...instruments.values(), duration, rows, errors],
    );
  },
  warnings: (options) =>
    options.queries.flatMap((query, i) =>
      readsOnly(query.sql)
        ? []
        : [`queries[${i}] (${query.name}): not a SELECT or WITH: it runs in a read-only transaction, where a write fails`],
    ),
});

/** The first word of a statement, past comments: a query that is not SELECT/WITH is warned about. */
function readsOnly(sql: string): boolean {
  const statement = sql.replace(/^(\s+|--[^\n]*\n?|\/\*[\s\S]*?\*\/)*/, '');
  return /^(select|with)\b/i.test(statement);
}

interface Series {
  readonly metric: string;
  readonly value: number;
  readonly attributes: Readonly<Record<string, string>>;
}

function instrument(meter: Parameters<typeof sqlSource.setup>[0]['meter'], metric: SqlMetric): Observable {
  const options = { description: metric.help, unit: metric.unit };
  if (metric.type === 'counter') return meter.createObservableCounter(metric.name, options);
  if (metric.type === 'updowncounter') return meter.createObservableUpDownCounter(metric.name, options);
  return meter.createObservableGauge(metric.name, options);
}

function observe(result: BatchObservableResult, instrument: Observable, value: number, attributes: Readonly<Record<string, string>>): void {
  result.observe(instrument, value, attributes);
}

/** The series of one query's rows; throws a CollectionError (`value`, `duplicate`, `series_limit`). */
function toSeries(query: SqlQuery, answer: SqlResult, seriesLimit: number): Series[] {
  const index = new Map(answer.columns.map((column, i) => [column.name, i]));
  const at = (column: string): number => {
    const i = index.get(column);
    if (i === undefined)
      throw new CollectionError('query', `query "${query.name}": no column "${column}" (columns: ${[...index.keys()].join(', ')})`);
    return i;
  };
  const series: Series[] = [];
  for (const metric of query.metrics) {
    const valueAt = at(metric.value);
    const labelsAt = Object.entries(metric.labels).map(([label, column]) => [label, at(column)] as const);
    const seen = new Set<string>();
    for (const row of answer.rows) {
      const value = metricValue(row[valueAt] ?? null);
      if (value === undefined) continue;
      if (typeof value === 'object')
        throw new CollectionError('value', `query "${query.name}", column "${metric.value}": ${value.problem}`);
      const attributes = Object.fromEntries(labelsAt.map(([label, i]) => [label, labelText(row[i] ?? null)]));
      const key = JSON.stringify(attributes);
      if (seen.has(key))
        throw new CollectionError(
          'duplicate',
          `query "${query.name}": two rows give ${metric.name} the same labels ${key} (add a label column)`,
        );
      seen.add(key);
      if (seen.size > seriesLimit)
        throw new CollectionError(
          'series_limit',
          `query "${query.name}": ${metric.name} has more than ${seriesLimit} series (global.seriesLimit)`,
        );
      series.push({ metric: metric.name, value, attributes });
    }
  }
  return series;
}

function asCollectionError(err: unknown, query: SqlQuery): CollectionError {
  if (err instanceof CollectionError) return err;
  const message = `query "${query.name}": ${(err as Error).message ?? String(err)}`;
  if (err instanceof SqlConnectionError) return new CollectionError('connection', message);
  if (err instanceof SqlTimeoutError) return new CollectionError('timeout', message);
  if (err instanceof RowLimitError) return new CollectionError('too_large', message);
  return new CollectionError('query', message);
}

/** The connection settings as of now: secrets read again at each call (a rotated password is picked up). */
async function settingsReader(options: SqlOptions, redactor: Redactor): Promise<() => Promise<ConnectionSettings>> {
  const fixed: ConnectionSettings = {
    host: options.host,
    port: options.port,
    socket: options.socket,
    file: options.file,
    database: options.database,
    user: options.user,
    tls: options.tls,
    options: options.options,
  };
  const password: SecretReader | undefined = options.password && (await textReader(options.password, 'password', redactor));
  const dsn = options.dsn === undefined ? undefined : await textReader(options.dsn, 'dsn', redactor);
  return async () => {
    const settings = { ...fixed, password: await password?.() };
    if (dsn === undefined) return settings;
    return { ...settings, ...parseDsn(await dsn(), redactor) };
  };
}

/** `scheme://user:password@host:port/database?option=value` → settings; the password hidden from messages. */
function parseDsn(text: string, redactor: Redactor): ConnectionSettings {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CollectionError('error', 'dsn: not a URL such as postgres://user:password@host:5432/database');
  }
  redactor.hideUrl('dsn', text, url, { secret: true });
  const decode = (part: string) => (part === '' ? undefined : decodeURIComponent(part));
  return {
    host: url.hostname === '' ? undefined : url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? undefined : Number(url.port),
    database: decode(url.pathname.replace(/^\//, '')),
    user: decode(url.username),
    password: decode(url.password),
    options: Object.fromEntries(url.searchParams),
  };
}
