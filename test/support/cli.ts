// The one way tests run the built CLI (dist/main.js, as `npm start` and the image do) as a child process.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { eventually } from './eventually.ts';
import { status, type TlsClient } from './http-get.ts';

export const MAIN = new URL('../../dist/main.js', import.meta.url).pathname;
/** The Node.js flags the image, `npm start` and the bin run the exporter with: tests run it the same way. */
export const NODE_FLAGS = ['--max-semi-space-size=8'];
/** The environment they set for it: glibc's malloc kept to two arenas (README, Limits: Memory). */
export const RUNTIME_ENV = { MALLOC_ARENA_MAX: '2' } as const;

/** One JSON log line (`--log.format=json`). */
export type LogLine = Record<string, unknown>;

export interface CliOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

export interface CliRun {
  readonly code: number | null;
  /** The signal that ended it: SIGKILL when it outlived `timeoutMs`. */
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The JSON log lines in `text` (other lines, such as a stack trace, are skipped). */
export const logLines = (text: string): LogLine[] =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);

/**
 * Runs the built CLI to completion. Killed with SIGKILL after `timeoutMs` (code null): a CLI that should have refused to
 * start would otherwise serve forever.
 */
export function runCli(
  args: readonly string[],
  { env = {}, cwd, timeoutMs = 60_000 }: CliOptions & { timeoutMs?: number } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_FLAGS, MAIN, ...args], {
      env: { ...process.env, ...RUNTIME_ENV, ...env },
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

export interface CliProcess {
  readonly pid: number;
  /** Everything written to stderr so far, raw. */
  stderr(): string;
  /** The JSON log lines so far. */
  logs(): LogLine[];
  /** The first log line matching; fails after `timeoutMs`, or as soon as the process has exited without it, with its stderr. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** `http://host:port` (`https://` with TLS) once the exporter logged `listening`. */
  listening(timeoutMs?: number): Promise<string>;
  signal(name: NodeJS.Signals): void;
  /** null while it runs, and when a signal ended it. */
  exitCode(): number | null;
  /** The exit code once it has exited and its stderr is read (null when a signal ended it). */
  readonly exited: Promise<number | null>;
  /** SIGKILL unless it has already exited, then waits for the exit. */
  kill(): Promise<void>;
  /** Resident set size now, from /proc (bytes). */
  rss(): number;
}

/** The built CLI on a free loopback port with JSON logs (later `args` override both), for tests that watch its lifecycle. */
export function spawnCli(args: readonly string[] = [], { env = {}, cwd }: CliOptions = {}): CliProcess {
  const child = spawn(process.execPath, [...NODE_FLAGS, MAIN, '--web.listen-address=127.0.0.1:0', '--log.format=json', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...RUNTIME_ENV, ...env },
    cwd,
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const gone = new AbortController();
  // 'close', not 'exit': by then every byte of stderr has been read.
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code) => {
      gone.abort(new Error(`exporter exited with ${code}`));
      resolve(code);
    }),
  );
  const logs = () => logLines(stderr);
  const waitForLog = async (match: (line: LogLine) => boolean, timeoutMs = 15_000) => {
    const find = () => {
      const line = logs().find(match);
      assert.ok(line, 'no such log line');
      return line;
    };
    try {
      return await eventually(find, { timeoutMs, signal: gone.signal });
    } catch (error) {
      // It may have logged the line in the moment between the last look and its exit.
      const line = logs().find(match);
      if (line) return line;
      throw new Error(`${(error as Error).message}; stderr:\n${stderr}`);
    }
  };
  return {
    pid: child.pid!,
    stderr: () => stderr,
    logs,
    waitForLog,
    listening: async (timeoutMs) => {
      const line = await waitForLog((l) => l.msg === 'listening', timeoutMs);
      return `${line.tls ? 'https' : 'http'}://${line.address as string}`;
    },
    signal: (name) => child.kill(name),
    exitCode: () => child.exitCode,
    exited,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    rss: () => {
      // /proc/PID/statm: size resident … in pages of 4 KiB.
      const statm = readFileSync(`/proc/${child.pid}/statm`, 'utf8');
      return Number(statm.split(' ')[1]) * 4096;
    },
  };
}

export interface ServingCli extends CliProcess {
  /** http://… or https://… with the bound address. */
  readonly url: string;
  /** Milliseconds from spawn to the first 200 from /healthz. */
  readonly startupMs: number;
}

/**
 * spawnCli, then waits until /healthz answers 200 (over TLS when the exporter listens with it: `ca`, and `cert`/`key` when
 * it requires a client certificate). Rejects with its stderr, killing it, when it exits or does not answer in time.
 */
export async function serveCli(
  args: readonly string[] = [],
  { ca, cert, key, ...options }: CliOptions & TlsClient = {},
): Promise<ServingCli> {
  const started = performance.now();
  const cli = spawnCli(args, options);
  try {
    const url = await cli.listening();
    const gone = new AbortController();
    void cli.exited.then((code) => gone.abort(new Error(`exporter exited with ${code}`)));
    await eventually(async () => assert.equal(await status(`${url}/healthz`, { ca, cert, key }), 200), {
      timeoutMs: 15_000,
      signal: gone.signal,
    }).catch((error: Error) => {
      throw new Error(`/healthz: ${error.message}; stderr:\n${cli.stderr()}`);
    });
    return { ...cli, url, startupMs: performance.now() - started };
  } catch (error) {
    await cli.kill();
    throw new Error(`exporter did not start: ${(error as Error).message}`);
  }
}
