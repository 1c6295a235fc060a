import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { eventually } from './eventually.ts';
import { freePort } from './ports.ts';

const BIN = '/usr/lib/postgresql/15/bin';

/** Where PostgreSQL 15 is missing: the test skips with this hint (fails under CI=true, see tools.ts). */
export const POSTGRES_INSTALL = 'apt-get install -y postgresql';

export function postgresInstalled(): boolean {
  return existsSync(join(BIN, 'postgres')) && existsSync(join(BIN, 'initdb'));
}

export interface TestPostgres {
  readonly host: string;
  readonly port: number;
  /** The unprivileged role the exporter logs in as (password authentication over TCP). */
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** Runs SQL as the superuser over the Unix socket (trust), in `database`. */
  admin(sql: string, params?: unknown[]): Promise<pg.QueryResult>;
  /** Stops the server (fast shutdown: sessions are ended) and removes its files. */
  stop(): Promise<void>;
  /** Stops the server, keeping its files, for outage tests. */
  stopServer(): Promise<void>;
  /** Starts the stopped server again on the same port. */
  startServer(): Promise<void>;
}

/**
 * A real PostgreSQL 15 server in a temp dir on a free 127.0.0.1 port, not the packaged cluster: initdb, then
 * `postgres` in the foreground, as the `postgres` user when the tests run as root (PostgreSQL refuses root).
 * Start one per test file: initdb takes seconds.
 */
export async function startPostgres(): Promise<TestPostgres> {
  const dir = await mkdtemp(join(tmpdir(), 'postgres-'));
  const data = join(dir, 'data');
  const asUser = process.getuid?.() === 0 ? unprivileged() : undefined;
  if (asUser) await chown(dir, asUser.uid, asUser.gid);
  await chmod(dir, 0o700);
  const run = (binary: string, args: string[]) =>
    asUser
      ? (['setpriv', [`--reuid=${asUser.uid}`, `--regid=${asUser.gid}`, '--clear-groups', join(BIN, binary), ...args]] as const)
      : ([join(BIN, binary), args] as const);
  const [initdb, initArgs] = run('initdb', [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    '-E',
    'UTF8',
    '--no-sync',
  ]);
  execFileSync(initdb, initArgs, { stdio: 'pipe' });
  const port = await freePort();
  let server: { child: ChildProcess; exited: Promise<void>; log: () => string } | undefined;

  const superuser = async <T>(use: (client: pg.Client) => Promise<T>, database = 'postgres'): Promise<T> => {
    const client = new pg.Client({ host: dir, port, user: 'postgres', database });
    await client.connect();
    try {
      return await use(client);
    } finally {
      await client.end();
    }
  };

  const startServer = async () => {
    const [postgres, args] = run('postgres', [
      '-D',
      data,
      '-k',
      dir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
    ]);
    const child = spawn(postgres, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
    const gone = new AbortController();
    const exited = new Promise<void>((resolve) =>
      child.once('exit', (code) => {
        gone.abort(new Error(`postgres exited with ${code}: ${log}`));
        resolve();
      }),
    );
    server = { child, exited, log: () => log };
    await eventually(() => superuser(async (client) => client.query('SELECT 1')), {
      timeoutMs: 30_000,
      intervalMs: 100,
      signal: gone.signal,
    });
  };
  const stopServer = async () => {
    if (!server) return;
    // SIGINT is PostgreSQL's fast shutdown: it ends sessions instead of waiting for them.
    if (server.child.exitCode === null) server.child.kill('SIGINT');
    await server.exited;
    server = undefined;
  };

  await startServer();
  const user = 'exporter';
  // Random: the redaction hides any 8 characters of a secret, so a word in it would hide that word in messages too.
  const password = randomBytes(12).toString('hex');
  const database = 'metrics';
  await superuser(async (client) => {
    await client.query(`CREATE ROLE ${user} LOGIN PASSWORD '${password}'`);
    await client.query(`CREATE DATABASE ${database} OWNER ${user}`);
  });
  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    database,
    admin: (sql, params) => superuser((client) => client.query(sql, params), database),
    stopServer,
    startServer,
    stop: async () => {
      await stopServer();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function unprivileged(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** Writes `text` to `file` (a secret such as a password file). */
export async function writeSecret(file: string, text: string): Promise<void> {
  await writeFile(file, text, { mode: 0o600 });
}
