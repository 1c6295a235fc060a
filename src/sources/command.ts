import { spawn } from 'node:child_process';
import { z } from 'zod';
import { instrumentOptions, SELF_METRICS } from '../telemetry/self-metrics.ts';
import { CollectionError } from './collection-error.ts';
import { configPath } from './config-path.ts';
import { createMapping, metricsMappingSchema } from './json-mapping.ts';
import { producePrometheusText, withOutputCheck } from './prometheus-output.ts';
import { Redactor } from './redact.ts';
import { recordReader, textOrSecret } from './secret.ts';
import { defineSource } from './source.ts';
import { byteSize, formatSize } from './untrusted/byte-size.ts';
import { ownedBytes } from './untrusted/owned-bytes.ts';
import { killMarked, newRun, RUN_MARKER, trackRun } from './untrusted/run-marker.ts';

/** Runs a program per collection (no shell) and maps its standard output, JSON or one number, to instruments. */
const commandDefinition = defineSource({
  kind: 'command',
  description: "A program's output (JSON, a single number or Prometheus text), mapped to metrics",
  options: ({ configDir }) =>
    z.strictObject({
      /** The program and its arguments, run without a shell. */
      command: z.array(z.string().min(1)).min(1, 'give the program and its arguments, such as [./queue-depth.sh, --json]'),
      /** Variables added to the exporter's environment; a value may be a secret (`{ env }`, `{ file }`), read at each run. */
      env: z.record(z.string(), textOrSecret(configDir, z.string())).default({}),
      /** Working directory; relative to the config file. */
      cwd: configPath(configDir).optional(),
      /** `json`: stdout is a JSON document; `number`: one number (the document `$`); `prometheus`: Prometheus text. */
      output: z.enum(['json', 'number', 'prometheus']).default('json'),
      /** More output than this fails the collection with reason `too_large` (and kills the program). */
      maxOutputSize: byteSize.prefault('4MiB'),
      metrics: metricsMappingSchema.optional(),
    }),
  async setup({ name, meter, options, collectionSignal, seriesLimit, produce }) {
    const mapping = options.metrics && createMapping(meter, options.metrics, seriesLimit);
    const startTime = Date.now();
    const exitCode = meter.createObservableGauge(SELF_METRICS.commandExitCode.name, instrumentOptions(SELF_METRICS.commandExitCode));
    const [program, ...args] = options.command as [string, ...string[]];
    // Hides what the secrets hold from this source's error messages (a program may print its variables on stderr).
    const redactor = new Redactor();
    const env = await recordReader(options.env, 'env', redactor);
    meter.addBatchObservableCallback(
      redactor.guard(async (result) => {
        // Until the program exits: shown as is when it cannot start or the collection times out.
        result.observe(exitCode, -1, { source: name });
        const signal = collectionSignal();
        const run = await runCommand(
          program,
          args,
          { env: { ...process.env, ...(await env()) }, cwd: options.cwd, maxOutputBytes: options.maxOutputSize },
          signal,
        );
        result.observe(exitCode, run.code ?? -1, { source: name });
        if (run.code !== 0) {
          throw new CollectionError(
            'exit_code',
            `${program} exited with ${run.code ?? run.signal}${run.stderr ? `: ${run.stderr.trim().slice(-200)}` : ''}`,
          );
        }
        const what = `the output of ${program}`;
        if (options.output === 'prometheus' || !mapping)
          await producePrometheusText(run.stdout, what, { produce, seriesLimit, collectionSignal }, startTime);
        else await mapping.observe({ bytes: run.stdout, format: options.output, what }, result, signal);
      }),
      [...(mapping?.instruments ?? []), exitCode],
    );
  },
});

export const commandSource = withOutputCheck(commandDefinition);

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Uint8Array;
  readonly stderr: string;
}

/**
 * Runs the program in its own process group. When it exits, or the collection ends first, the whole group is
 * killed, and so is anything it started that left the group (found by its run marker): nothing it started
 * outlives the run, and a background child that keeps stdout open cannot hold back the output.
 */
function runCommand(
  program: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd: string | undefined; maxOutputBytes: number },
  signal: AbortSignal,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const run = newRun();
    const child = spawn(program, args, {
      env: { ...options.env, [RUN_MARKER]: run },
      cwd: options.cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const killAll = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // The group is already gone.
      }
      void killMarked(run);
    };
    signal.addEventListener('abort', killAll, { once: true });
    const untrack = child.pid === undefined ? () => {} : trackRun(run, child.pid);
    const stdout: Buffer[] = [];
    let stderr = '';
    let size = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > options.maxOutputBytes) {
        killAll();
        child.stdout.destroy();
        reject(new CollectionError('too_large', `${program} wrote more than maxOutputSize (${formatSize(options.maxOutputBytes)})`));
      } else {
        stdout.push(chunk);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < 4096) stderr += chunk;
    });
    child.once('error', (err) => {
      signal.removeEventListener('abort', killAll);
      untrack();
      reject(new CollectionError('error', `cannot run ${program}: ${err.message}`));
    });
    // The output is what the program wrote until it exited: what it left running is killed, which closes the pipes.
    child.once('exit', killAll);
    child.once('close', (code, killedBy) => {
      signal.removeEventListener('abort', killAll);
      untrack();
      resolve({ code, signal: killedBy, stdout: ownedBytes(stdout), stderr });
    });
  });
}
