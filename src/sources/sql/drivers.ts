import type { SqlDriver } from './driver.ts';

/**
 * The databases `driver:` may name, each imported by the first sql source that uses it (no database client is
 * loaded otherwise: idle memory, bench/). To add one: write its module and list it here.
 */
export const SQL_DRIVERS = {
  postgres: async () => (await import('./postgres.ts')).postgresDriver,
  mysql: async () => (await import('./mysql-driver.ts')).mysqlDriver,
  sqlite: async () => (await import('./sqlite-driver.ts')).sqliteDriver,
} as const satisfies Record<string, () => Promise<SqlDriver>>;

export type SqlDriverName = keyof typeof SQL_DRIVERS;
