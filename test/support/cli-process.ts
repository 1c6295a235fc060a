import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { type CliRun, MAIN, runCli } from './exporter.ts';

export interface CliProcess {
  readonly child: ChildProcess;
  /** Everything written to stderr so far, raw. */
  stderr(): string;
  /** The JSON log lines so far. */
  logs(): Record<string, unknown>[];
  /** The first log line matching, polled until `timeoutMs`; throws with the stderr so far when none arrives. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** `http://host:port` once the exporter logged `listening`. */
  url(timeoutMs?: number): Promise<string>;
  readonly exited: Promise<number | null>;
}

/** The built CLI as a child process with JSON logs, for tests that watch its lifecycle (startup, signals, exit). */
export function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const child = spawn(process.execPath, [MAIN, '--web.listen-address=127.0.0.1:0', '--log.format=json', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const logs = () =>
    stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const waitForLog = async (match: (line: Record<string, unknown>) => boolean, timeoutMs = 15_000) => {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const line = logs().find(match);
      if (line) return line;
      if (performance.now() > deadline) throw new Error(`no such log line within ${timeoutMs} ms; stderr:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  return {
    child,
    stderr: () => stderr,
    logs,
    waitForLog,
    url: async (timeoutMs) => `http://${(await waitForLog((l) => l.msg === 'listening', timeoutMs)).address as string}`,
    exited,
  };
}

/** check-config, then start (which must exit before listening); both must reject the file the same way. */
export async function bothReject(file: string, problem: RegExp, env: NodeJS.ProcessEnv = {}): Promise<{ check: CliRun; start: CliRun }> {
  const check = await runCli(['check-config', file], env);
  assert.equal(check.code, 2, check.stderr);
  assert.match(check.stderr, problem);
  assert.doesNotMatch(check.stderr, /\n\s+at /, 'no stack trace');
  const start = await runCli([`--config.file=${file}`, '--log.format=json', '--web.listen-address=127.0.0.1:0'], env);
  assert.equal(start.code, 2, start.stderr);
  const failure = start.stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; err?: string })
    .find((l) => l.msg === 'invalid configuration');
  assert.ok(failure, start.stderr);
  assert.match(failure.err ?? '', problem);
  return { check, start };
}

/** `text` as a regular expression matching itself. */
export const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
