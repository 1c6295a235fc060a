import { z } from 'zod';
import { durationMs, timeoutMs } from '../../duration.ts';

const NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const metricSchema = z.strictObject({
  /** Prometheus-style name; counters get `_total` added. */
  name: z.string().regex(NAME, 'must be a Prometheus metric name (letters, digits, _)'),
  /** A counter's column IS the total (an observable counter), never added up. */
  type: z.enum(['gauge', 'counter', 'updowncounter']).default('gauge'),
  help: z.string().default(''),
  unit: z.string().default(''),
  /** The column holding the value: one series per row; a NULL gives that row no series. */
  value: z.string().min(1),
  /** Label name → column; a NULL is the empty label. */
  labels: z
    .record(
      z
        .string()
        .regex(NAME, 'must be a label name (letters, digits, _)')
        .refine((name) => !name.startsWith('__'), 'names starting with __ are reserved by Prometheus'),
      z.string().min(1),
    )
    .default({}),
});

export type SqlMetric = z.output<typeof metricSchema>;

export const querySchema = z.strictObject({
  /** The `query` label of the custom_exporter_sql_query_* metrics. */
  name: z.string().regex(NAME, 'must be letters, digits and _'),
  sql: z.string().min(1),
  /** Bound as $1, $2… (PostgreSQL) or ? (MySQL, SQLite): never interpolated. */
  params: z.array(z.union([z.string(), z.number(), z.boolean(), z.null()])).default([]),
  /** A successful result younger than this is reused instead of running the query again. */
  minInterval: durationMs.optional(),
  /** Run in the background every `interval` instead of at each collection, which reads its latest run. */
  interval: durationMs.optional(),
  /** The statement timeout on the server, and the longest the exporter waits. */
  timeout: timeoutMs.prefault('10s'),
  /** More rows fail the query with reason `too_large` (the driver stops reading). */
  maxRows: z.int().positive().default(10_000),
  metrics: z.array(metricSchema).min(1, 'at least one metric is required'),
});

export type SqlQuery = z.output<typeof querySchema>;
