import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { MAIN } from './exporter.ts';

export interface WebCli {
  /** http://… or https://… with the bound address. */
  readonly url: string;
  readonly pid: number;
  /** Lines logged so far (JSON format). */
  readonly logs: () => Record<string, unknown>[];
  /** The first logged line matching, polled until `timeoutMs`; throws with every line logged otherwise. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<void>;
  /** Resident set size of the process, from /proc (bytes). */
  rss(): number;
}

export interface WebCliOptions {
  /** With TLS: the CA the readiness probe trusts (`url` is then https). */
  readonly ca?: Buffer;
  /** Client certificate for the readiness probe, when the server requires one. */
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly env?: NodeJS.ProcessEnv;
}

/** The built CLI (dist/main.js) on a free loopback port, plain or TLS, waited for until /healthz answers 200. */
export async function startWebCli(args: readonly string[], options: WebCliOptions = {}): Promise<WebCli> {
  const child = spawn(process.execPath, [MAIN, '--web.listen-address=127.0.0.1:0', '--log.format=json', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const logs = () =>
    stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const waitForLog = async (match: (line: Record<string, unknown>) => boolean, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = logs().find(match);
      if (line) return line;
      if (child.exitCode !== null) throw new Error(`exporter exited with ${child.exitCode}: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`no such log line within ${timeoutMs} ms: ${stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  try {
    const listening = await waitForLog((l) => l.msg === 'listening', 15_000);
    const url = `${listening.tls ? 'https' : 'http'}://${listening.address as string}`;
    const deadline = Date.now() + 15_000;
    while ((await status(`${url}/healthz`, options).catch(() => 0)) !== 200) {
      if (Date.now() > deadline) throw new Error(`exporter does not answer /healthz: ${stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    return {
      url,
      pid: child.pid!,
      logs,
      waitForLog,
      kill,
      rss: () => rssOf(child.pid!),
    };
  } catch (err) {
    await kill();
    throw err;
  }
}

/** The status of one GET (TLS options apply to https URLs). */
export function status(url: string, options: Pick<WebCliOptions, 'ca' | 'cert' | 'key'> & { headers?: Record<string, string> } = {}) {
  return new Promise<number>((resolve, reject) => {
    const send = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = send(url, { ...options, agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode!));
    });
    req.once('error', reject);
    req.end();
  });
}

function rssOf(pid: number): number {
  // /proc/PID/statm: size resident … in pages of 4 KiB.
  const statm = readFileSync(`/proc/${pid}/statm`, 'utf8');
  return Number(statm.split(' ')[1]) * 4096;
}

/** Runs the built CLI to completion, killed after `timeoutMs` (a CLI that should have refused to start would serve forever). */
export function runCliWithin(args: readonly string[], timeoutMs = 15_000): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stderr }));
  });
}
