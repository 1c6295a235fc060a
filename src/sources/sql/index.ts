import { z } from 'zod';
import { configPath } from '../config-path.ts';
import { secretSchema, textOrSecret } from '../secret.ts';
import { defineSource } from '../source.ts';
import { SQL_DRIVERS, type SqlDriverName } from './drivers.ts';
import { querySchema } from './query-schema.ts';

// The reason never quotes the text: it may hold a password.
export const DSN_PROBLEM = 'is not a URL such as postgres://user:password@host:5432/database';
const checkDsn = (text: string) => (URL.canParse(text) ? undefined : DSN_PROBLEM);

const driverNames = Object.keys(SQL_DRIVERS) as [SqlDriverName, ...SqlDriverName[]];

function sqlOptions(configDir: string) {
  return z
    .strictObject({
      driver: z.enum(driverNames),
      /** A URL such as postgres://user:password@host:5432/db?sslmode=require; a secret, never logged. */
      dsn: textOrSecret(
        configDir,
        z.string().refine((text) => checkDsn(text) === undefined, DSN_PROBLEM),
        checkDsn,
      ).optional(),
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
        if (query.minInterval !== undefined && query.interval !== undefined)
          ctx.addIssue({ code: 'custom', path: ['queries', q, 'interval'], message: 'give either minInterval or interval' });
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

export type SqlOptions = z.output<ReturnType<typeof sqlOptions>>;

/**
 * `kind: sql`: runs each query (read-only, bounded) per collection and maps its rows to series, one per row. A
 * failing query drops only its own series (counted in custom_exporter_sql_query_errors_total); the source fails
 * when the database cannot be reached or every query failed.
 */
export const sqlSource = defineSource({
  kind: 'sql',
  description: 'Rows of SQL queries (PostgreSQL, MySQL/MariaDB, SQLite) mapped to metrics',
  options: ({ configDir }) => sqlOptions(configDir),
  setup: async (context) => (await import('./collection.ts')).setupSql(context),
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
