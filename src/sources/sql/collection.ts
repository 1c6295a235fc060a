import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type { BatchObservableResult, Meter, Observable } from '@opentelemetry/api';
import { instrumentOptions, SELF_METRICS } from '../../telemetry/self-metrics.ts';
import { CollectionError, type FailureReason } from '../collection-error.ts';
import { Redactor } from '../redact.ts';
import { type SecretReader, textReader } from '../secret.ts';
import type { ConnectionCheck, SourceContext } from '../source.ts';
import { readRegularFile } from '../untrusted/bounded-read.ts';
import {
  type ConnectionSettings,
  RowLimitError,
  type SqlConnection,
  SqlConnectionError,
  type SqlResult,
  SqlTimeoutError,
} from './driver.ts';
import { SQL_DRIVERS } from './drivers.ts';
import { DSN_PROBLEM, type SqlOptions } from './index.ts';
import { allowedAddress } from './probe-target.ts';
import type { SqlMetric, SqlQuery } from './query-schema.ts';
import { labelText, metricValue } from './values.ts';

// What a sql source does once started, loaded by the first one (idle memory: bench/): the kind's definition,
// which every config load needs, is index.ts.

// After an outage, connecting is tried again after 0.5 s, then twice as long each time up to 8 s, not at every scrape.
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 8_000;

// A background poll's client deadline, past its statement timeout, so the server's own timeout is what ends it.
const POLL_GRACE_MS = 1_000;

/** One run of a query: its series, or why it failed. */
interface QueryRun {
  readonly at: number;
  readonly seconds: number;
  readonly rows?: number;
  readonly series?: readonly Series[];
  readonly failure?: CollectionError;
}

/** Starts one sql source: its instruments, its pool and its background polls, and the callback of its collections. */
export async function setupSql({
  name,
  meter,
  options,
  collectionSignal,
  logger,
  signal,
  seriesLimit,
  allowConnection,
}: SourceContext<SqlOptions>): Promise<void> {
  const redactor = new Redactor();
  const driver = await SQL_DRIVERS[options.driver]();
  const settings = await settingsReader(options, redactor, allowConnection);
  const instruments = new Map<string, Observable>();
  for (const query of options.queries) for (const metric of query.metrics) instruments.set(metric.name, instrument(meter, metric));
  const { sqlQueryDuration, sqlQueryRows, sqlQueryErrors } = SELF_METRICS;
  const duration = meter.createObservableGauge(sqlQueryDuration.name, instrumentOptions(sqlQueryDuration));
  const rows = meter.createObservableGauge(sqlQueryRows.name, instrumentOptions(sqlQueryRows));
  const errors = meter.createObservableCounter(sqlQueryErrors.name, instrumentOptions(sqlQueryErrors));
  const errorCounts = new Map<string, { query: string; reason: FailureReason; count: number }>();
  // Each query's latest run: reused within its minInterval, and the only source of an interval query's series.
  const latest = new Map<string, QueryRun>();
  const logged = new Map<string, string | undefined>();

  // The pool, reopened when a secret (password, dsn) changes; after a connection failure, no new attempt before `retry.at`.
  let pool: { key: string; connection: SqlConnection } | undefined;
  let retry = { at: 0, ms: 0 };
  signal.addEventListener('abort', () => void pool?.connection.close().catch(() => {}), { once: true });
  const connection = async (): Promise<SqlConnection> => {
    let current: ConnectionSettings;
    try {
      current = await settings();
    } catch (err) {
      if (err instanceof CollectionError) throw err;
      throw new CollectionError('error', (err as Error).message);
    }
    const key = JSON.stringify(current);
    if (pool?.key !== key) {
      void pool?.connection.close().catch(() => {});
      pool = { key, connection: driver.open(current, options.pool) };
    }
    return pool.connection;
  };

  /**
   * Runs `query` once (cut when `deadline` aborts) on the pool `db` gives, counts its failure, and keeps it as the
   * query's latest run.
   */
  const run = async (query: SqlQuery, deadline: AbortSignal, db: () => Promise<SqlConnection>): Promise<QueryRun> => {
    const started = performance.now();
    let outcome: Pick<QueryRun, 'rows' | 'series' | 'failure'>;
    let returned: number | undefined;
    try {
      const now = Date.now();
      if (now < retry.at)
        throw new CollectionError('connection', `the database was unreachable: connecting again in ${Math.ceil((retry.at - now) / 1000)}s`);
      const answer = await (await db()).query(query.sql, {
        params: query.params,
        timeoutMs: query.timeout,
        maxRows: query.maxRows,
        signal: deadline,
      });
      retry = { at: 0, ms: 0 };
      returned = answer.rows.length;
      outcome = { rows: returned, series: toSeries(query, answer, seriesLimit) };
    } catch (err) {
      const failure = asCollectionError(err, query);
      // Once per outage step: the queries of one collection that all fail together double the wait once.
      if (failure.reason === 'connection' && Date.now() >= retry.at) {
        const ms = Math.min(MAX_RETRY_MS, Math.max(FIRST_RETRY_MS, retry.ms * 2));
        retry = { ms, at: Date.now() + ms };
      }
      const key = `${query.name}\0${failure.reason}`;
      const counted = errorCounts.get(key) ?? { query: query.name, reason: failure.reason, count: 0 };
      counted.count++;
      errorCounts.set(key, counted);
      outcome = { rows: returned, failure };
    }
    const done = { ...outcome, at: Date.now(), seconds: (performance.now() - started) / 1000 };
    latest.set(query.name, done);
    return done;
  };

  // A query with `interval` is polled in the background, one run at a time; collections read its latest run.
  for (const query of options.queries) {
    if (query.interval === undefined) continue;
    const interval = query.interval;
    void (async () => {
      while (!signal.aborted) {
        await run(query, AbortSignal.any([signal, AbortSignal.timeout(query.timeout + POLL_GRACE_MS)]), connection);
        await delay(interval, undefined, { signal }).catch(() => {});
      }
    })();
  }
  /** The latest poll of an interval query, or a `stale` failure when there is none recent enough. */
  const polled = (query: SqlQuery & { interval: number }): QueryRun => {
    const last = latest.get(query.name);
    const staleAfter = 2 * query.interval + query.timeout;
    if (last && Date.now() - last.at <= staleAfter) return last;
    const why = last ? `its latest poll is older than ${staleAfter / 1000}s` : 'it has not been polled yet';
    return { at: 0, seconds: 0, failure: new CollectionError('stale', `query "${query.name}": ${why}`) };
  };

  meter.addBatchObservableCallback(
    redactor.guard(async (result) => {
      const deadline = collectionSignal();
      // The settings are read (secret files, a probe's DNS lookup and allowlist check) once for all the queries.
      let opened: Promise<SqlConnection> | undefined;
      const db = () => {
        opened ??= connection();
        return opened;
      };
      const outcomes = await Promise.all(
        options.queries.map(async (query): Promise<QueryRun> => {
          if (query.interval !== undefined) return polled({ ...query, interval: query.interval });
          const last = latest.get(query.name);
          if (query.minInterval !== undefined && last?.series && Date.now() - last.at < query.minInterval) return last;
          return run(query, deadline, db);
        }),
      );
      options.queries.forEach((query, i) => {
        const { seconds, rows: count } = outcomes[i]!;
        const attributes = { source: name, query: query.name };
        if (seconds > 0) result.observe(duration, seconds, attributes);
        if (count !== undefined) result.observe(rows, count, attributes);
      });
      for (const { query, reason, count } of errorCounts.values()) result.observe(errors, count, { source: name, query, reason });
      const failures = outcomes.flatMap((outcome) => (outcome.failure ? [outcome.failure] : []));
      const unreachable = failures.find((failure) => failure.reason === 'connection');
      if (unreachable) throw unreachable;
      if (failures.length === outcomes.length) throw failures[0]!;
      // Logged when a query starts failing or fails differently, not at every collection (as the source's own failures).
      options.queries.forEach((query, i) => {
        const message = outcomes[i]!.failure?.message;
        if (message !== undefined && message !== logged.get(query.name))
          logger.warn({ source: name, query: query.name, reason: outcomes[i]!.failure!.reason }, redactor.text(message));
        logged.set(query.name, message);
      });
      for (const outcome of outcomes)
        for (const { metric, value, attributes } of outcome.series ?? []) observe(result, instruments.get(metric)!, value, attributes);
    }),
    [...instruments.values(), duration, rows, errors],
  );
}

interface Series {
  readonly metric: string;
  readonly value: number;
  readonly attributes: Readonly<Record<string, string>>;
}

function instrument(meter: Meter, metric: SqlMetric): Observable {
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
      const attributes: Record<string, string> = {};
      let key = '';
      for (const [label, i] of labelsAt) {
        const text = labelText(row[i] ?? null);
        attributes[label] = text;
        key += `${text.length}:${text}`; // length-prefixed: no two label sets give one key
      }
      if (seen.has(key))
        throw new CollectionError(
          'duplicate',
          `query "${query.name}": two rows give ${metric.name} the same labels ${JSON.stringify(attributes)} (add a label column)`,
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

/**
 * The connection settings as of now: secrets read again at each call (a rotated password is picked up); for a probe
 * (`allow`), with the address to connect to, judged by the module's allowlist.
 */
async function settingsReader(
  options: SqlOptions,
  redactor: Redactor,
  allow: ConnectionCheck | undefined,
): Promise<() => Promise<ConnectionSettings>> {
  const fixed: ConnectionSettings = {
    host: options.host,
    port: options.port,
    socket: options.socket,
    file: options.file,
    database: options.database,
    user: options.user,
    options: options.options,
  };
  const { tls } = options;
  const password: SecretReader | undefined = options.password && (await textReader(options.password, 'password', redactor));
  const dsn = options.dsn === undefined ? undefined : await textReader(options.dsn, 'dsn', redactor);
  return async () => {
    // The CA file is read with the other settings, like a secret file: bounded, and a FIFO fails at once (issue 11).
    const ca = tls?.caFile === undefined ? undefined : await readCaFile(tls.caFile);
    const settings = { ...fixed, password: await password?.(), tls: tls && { ca, insecureSkipVerify: tls.insecureSkipVerify } };
    if (allow !== undefined) return allowedAddress(settings, allow, options.driver);
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
    throw new CollectionError('error', `dsn: the secret's text ${DSN_PROBLEM}`);
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

// A CA bundle is a few KiB; a larger file is a mistake.
const MAX_CA_BYTES = 1024 * 1024;

async function readCaFile(file: string): Promise<string> {
  try {
    return new TextDecoder().decode(await readRegularFile(file, { maxBytes: MAX_CA_BYTES, field: 'the limit for certificate files' }));
  } catch (err) {
    throw new CollectionError('connection', `tls.caFile: ${(err as Error).message}`);
  }
}
