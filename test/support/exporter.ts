import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { pino } from 'pino';
import { loadConfigFile, parseConfig } from '../../src/config/load.ts';
import type { ResolvedConfig } from '../../src/config/resolved.ts';
import { type Exporter, startExporter, type WebSettings } from '../../src/exporter.ts';
import { builtinSources } from '../../src/sources/registry.ts';
import { resolveTelemetrySettings } from '../../src/telemetry/telemetry-settings.ts';
import { eventually } from './eventually.ts';
import { testSources } from './test-sources.ts';

export interface TestExporter extends Exporter {
  readonly url: string;
}

/** The real exporter, in this process, on a free loopback port, with the test source kinds available. */
export async function startTestExporter(
  configYaml: string,
  options: { exporterMetrics?: boolean; env?: NodeJS.ProcessEnv; web?: WebSettings } = {},
): Promise<TestExporter> {
  return serve(parseConfig(configYaml, 'test.yaml', [...builtinSources, ...testSources]), undefined, options);
}

/** Like startTestExporter, from a config file (so `kind: module` works); `reload()` reads the file again. */
export async function startTestExporterFromFile(file: string, options: { env?: NodeJS.ProcessEnv } = {}): Promise<TestExporter> {
  const load = () => loadConfigFile(file, [...builtinSources, ...testSources]);
  return serve(await load(), load, options);
}

async function serve(
  config: ResolvedConfig,
  loadConfig: (() => Promise<ResolvedConfig>) | undefined,
  options: { exporterMetrics?: boolean; env?: NodeJS.ProcessEnv; web?: WebSettings },
): Promise<TestExporter> {
  const exporter = await startExporter({
    config,
    loadConfig,
    telemetry: resolveTelemetrySettings(options.env ?? {}, config.telemetry),
    listen: { host: '127.0.0.1', port: 0 },
    telemetryPath: '/metrics',
    exporterMetrics: options.exporterMetrics ?? true,
    ...(options.web ? { web: options.web } : {}),
    logger: pino({ level: 'silent' }),
  });
  const scheme = options.web?.config?.tls ? 'https' : 'http';
  return { ...exporter, url: `${scheme}://127.0.0.1:${exporter.address.port}` };
}

export const MAIN = new URL('../../dist/main.js', import.meta.url).pathname;

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built CLI (dist/main.js, as `npm start` and the image do) to completion. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface ServingCli {
  readonly url: string;
  readonly pid: number;
  /** Lines logged so far (JSON format). */
  readonly logs: () => Record<string, unknown>[];
  signal(name: NodeJS.Signals): void;
  exited: Promise<number | null>;
  /** Milliseconds from spawn to the first answer. */
  readonly startupMs: number;
}

/** Starts the built CLI on a free port and waits until it answers. */
export async function serveCli(args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ServingCli> {
  const started = performance.now();
  const child = spawn(process.execPath, [MAIN, '--web.listen-address=127.0.0.1:0', '--log.format=json', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const logs = () =>
    stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const gone = new AbortController();
  void exited.then((code) => gone.abort(new Error(`exporter exited with ${code}: ${stderr}`)));
  try {
    const url = await eventually(
      async () => {
        const listening = logs().find((l) => l.msg === 'listening');
        assert.ok(listening, 'no "listening" log line yet');
        const url = `http://${listening.address as string}`;
        assert.equal((await fetch(`${url}/healthz`)).status, 200);
        return url;
      },
      { timeoutMs: 15_000, signal: gone.signal },
    );
    return { url, pid: child.pid!, logs, signal: (s) => child.kill(s), exited, startupMs: performance.now() - started };
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`exporter did not start: ${(error as Error).message}\n${stderr}`);
  }
}
