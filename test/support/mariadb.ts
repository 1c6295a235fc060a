import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { freePort } from './ports.ts';

const MARIADBD = '/usr/sbin/mariadbd';
const INSTALL_DB = '/usr/bin/mariadb-install-db';
const READY_MS = 60_000;
export const MARIADB_MISSING = `${MARIADBD} not found (install it with: apt-get install mariadb-server)`;

export interface MariaDb {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** The server's Unix socket. */
  readonly socket: string;
  /** Runs statements as root over the server's socket (setup, and looking at PROCESSLIST from outside). */
  admin(sql: string, params?: unknown[]): Promise<unknown[]>;
  /** Stops the server, keeping its data (an outage). */
  stopServer(): Promise<void>;
  /** Starts it again on the same port. */
  startServer(): Promise<void>;
  /** Stops the server and removes its data. */
  stop(): Promise<void>;
}

/**
 * A throwaway MariaDB server (Debian `mariadb-server`, 10.11) in a temp dir on a free port, run as the `mysql`
 * user, with a database `app` and a password user `exporter`. Started once per test file: it takes seconds.
 * Independent of the packaged service and of /etc/mysql (--no-defaults). Missing binaries: undefined (the
 * tests skip themselves with MARIADB_MISSING), or an error under CI=true, where .ci/run installs them.
 */
export async function startMariaDb(options: { tls?: { cert: string; key: string } } = {}): Promise<MariaDb | undefined> {
  if (!existsSync(MARIADBD) || !existsSync(INSTALL_DB)) {
    if (process.env.CI === 'true') throw new Error(MARIADB_MISSING);
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'mariadb-'));
  const data = join(dir, 'data');
  const socket = join(dir, 'mysqld.sock');
  const errorLog = join(dir, 'error.log');
  chownSync(dir, uid('mysql'), gid('mysql'));
  // TLS offered beside plain connections; the server (user mysql) reads its own copies of the certificate and key.
  const tlsArgs: string[] = [];
  if (options.tls) {
    for (const [name, from] of [
      ['server.crt', options.tls.cert],
      ['server.key', options.tls.key],
    ] as const) {
      copyFileSync(from, join(dir, name));
      chownSync(join(dir, name), uid('mysql'), gid('mysql'));
    }
    tlsArgs.push(`--ssl-cert=${join(dir, 'server.crt')}`, `--ssl-key=${join(dir, 'server.key')}`);
  }
  execFileSync(
    INSTALL_DB,
    ['--no-defaults', `--datadir=${data}`, '--auth-root-authentication-method=normal', '--user=mysql', '--skip-test-db'],
    {
      stdio: 'pipe',
    },
  );
  const port = await freePort();
  let server: ChildProcess | undefined;

  const startServer = async (): Promise<void> => {
    const child = spawn(
      MARIADBD,
      [
        '--no-defaults',
        `--datadir=${data}`,
        `--port=${port}`,
        `--socket=${socket}`,
        '--bind-address=127.0.0.1',
        '--user=mysql',
        `--log-error=${errorLog}`,
        `--pid-file=${join(dir, 'mysqld.pid')}`,
        // Small buffers: several test servers may run at once on a 2-core, shared machine.
        '--innodb-buffer-pool-size=16M',
        '--skip-name-resolve',
        ...tlsArgs,
      ],
      { stdio: 'ignore' },
    );
    server = child;
    const deadline = Date.now() + READY_MS;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`mariadbd exited with ${child.exitCode}: ${readLog(errorLog)}`);
      try {
        const connection = await mysql.createConnection({ socketPath: socket, user: 'root' });
        await connection.end();
        return;
      } catch (err) {
        if (Date.now() > deadline)
          throw new Error(`mariadbd not ready after ${READY_MS} ms: ${(err as Error).message}: ${readLog(errorLog)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  };

  const stopServer = async (): Promise<void> => {
    const child = server;
    server = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  };

  const admin = async (sql: string, params: unknown[] = []): Promise<unknown[]> => {
    const connection = await mysql.createConnection({ socketPath: socket, user: 'root', supportBigNumbers: true, bigNumberStrings: true });
    try {
      const [rows] = await connection.query(sql, params);
      return rows as unknown[];
    } finally {
      await connection.end();
    }
  };

  await startServer();
  const password = 'exporter-secret';
  await admin('CREATE DATABASE app');
  await admin("CREATE USER 'exporter'@'%' IDENTIFIED BY ?", [password]);
  await admin("GRANT ALL ON app.* TO 'exporter'@'%'");
  return {
    host: '127.0.0.1',
    port,
    user: 'exporter',
    password,
    database: 'app',
    socket,
    admin,
    stopServer,
    startServer,
    stop: async () => {
      await stopServer();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no error log)';
  }
}

function uid(user: string): number {
  return Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
}

function gid(user: string): number {
  return Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
}
