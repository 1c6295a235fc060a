import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { eventually } from './eventually.ts';
import { freePort } from './ports.ts';

export interface ScrapeConfig {
  readonly job_name: string;
  readonly static_configs: readonly { readonly targets: readonly string[]; readonly labels?: Readonly<Record<string, string>> }[];
  readonly [key: string]: unknown;
}

export interface RunningPrometheus {
  readonly url: string;
  /** Instant query; returns the result vector. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /** Polls `expr` until it returns a sample that satisfies `accept`, or fails after `timeoutMs`. */
  waitFor(expr: string, accept: (value: number) => boolean, timeoutMs?: number): Promise<number>;
  targets(): Promise<{ health: string; lastError: string; scrapeUrl: string }[]>;
  stop(): Promise<void>;
}

/**
 * Runs the real Prometheus server (Debian's package) in the foreground on 127.0.0.1 with a temp dir; `flags` are added
 * to its command line (`--enable-feature=native-histograms`).
 */
export async function startPrometheus(
  binary: string,
  scrapeConfigs: readonly ScrapeConfig[],
  flags: readonly string[] = [],
): Promise<RunningPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, stringify({ global: { scrape_interval: '1s', evaluation_interval: '1s' }, scrape_configs: scrapeConfigs }));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    binary,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
      ...flags,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const gone = new AbortController();
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      gone.abort(new Error(`prometheus exited with ${code}: ${log}`));
      resolve();
    }),
  );

  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url}${path}`);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error}`);
    return body.data;
  };
  const query = async (expr: string) =>
    (
      await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(
        `/api/v1/query?query=${encodeURIComponent(expr)}`,
      )
    ).result;

  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };

  // Ready when its API answers.
  try {
    await eventually(async () => assert.equal((await fetch(`${url}/-/ready`)).status, 200), {
      timeoutMs: 20_000,
      intervalMs: 200,
      signal: gone.signal,
    });
  } catch (error) {
    await stop();
    throw new Error(`prometheus did not become ready: ${(error as Error).message}\n${log}`);
  }

  return {
    url,
    query,
    async waitFor(expr, accept, timeoutMs = 20_000) {
      try {
        return await eventually(
          async () => {
            const [sample] = await query(expr);
            const value = Number(sample?.value[1]);
            assert.ok(sample && accept(value), `${expr} not satisfied (last: ${sample ? value : 'no result'})`);
            return value;
          },
          { timeoutMs, intervalMs: 250 },
        );
      } catch (error) {
        const targets = await api<{ activeTargets: unknown[] }>('/api/v1/targets');
        throw new Error(`prometheus: ${(error as Error).message}; targets: ${JSON.stringify(targets.activeTargets)}`);
      }
    },
    async targets() {
      return (await api<{ activeTargets: { health: string; lastError: string; scrapeUrl: string }[] }>('/api/v1/targets')).activeTargets;
    },
    stop,
  };
}
