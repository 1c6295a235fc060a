import { spawn } from 'node:child_process';
import { z } from 'zod';
import { instrumentOptions, SELF_METRICS } from '../telemetry/self-metrics.ts';
import { CollectionError } from './collection-error.ts';
import { configPath } from './config-path.ts';
import { createMapping, metricsMappingSchema, parseJson } from './json-mapping.ts';
import { defineSource } from './source.ts';

// Output beyond this fails the collection instead of being buffered.
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/** Runs a program per collection (no shell) and maps its standard output, JSON or one number, to instruments. */
export const commandSource = defineSource({
  kind: 'command',
  description: "A program's output (JSON or a single number), mapped to metrics",
  options: ({ configDir }) =>
    z.strictObject({
      /** The program and its arguments, run without a shell. */
      command: z.array(z.string().min(1)).min(1, 'give the program and its arguments, such as [./queue-depth.sh, --json]'),
      /** Variables added to the exporter's environment. */
      env: z.record(z.string(), z.string()).default({}),
      /** Working directory; relative to the config file. */
      cwd: configPath(configDir).optional(),
      /** `json`: stdout is a JSON document; `number`: stdout is one number (the document `$`). */
      output: z.enum(['json', 'number']).default('json'),
      metrics: metricsMappingSchema,
    }),
  setup({ name, meter, options, collectionSignal }) {
    const mapping = createMapping(meter, options.metrics);
    const exitCode = meter.createObservableGauge(SELF_METRICS.commandExitCode.name, instrumentOptions(SELF_METRICS.commandExitCode));
    const [program, ...args] = options.command as [string, ...string[]];
    meter.addBatchObservableCallback(
      async (result) => {
        const run = await runCommand(program, args, { env: { ...process.env, ...options.env }, cwd: options.cwd }, collectionSignal());
        result.observe(exitCode, run.code ?? -1, { source: name });
        if (run.code !== 0) {
          throw new CollectionError(
            'exit_code',
            `${program} exited with ${run.code ?? run.signal}${run.stderr ? `: ${run.stderr.trim().slice(-200)}` : ''}`,
          );
        }
        mapping.observe(
          options.output === 'json' ? parseJson(run.stdout, `the output of ${program}`) : parseNumber(run.stdout, program),
          result,
        );
      },
      [...mapping.instruments, exitCode],
    );
  },
});

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the program in its own process group. When the collection ends (timed out, or done) the whole group is
 * killed, so neither the program nor anything it started outlives the collection.
 */
function runCommand(
  program: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd: string | undefined },
  signal: AbortSignal,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env: options.env, cwd: options.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // The group is already gone.
      }
    };
    signal.addEventListener('abort', killGroup, { once: true });
    const stdout: Buffer[] = [];
    let stderr = '';
    let size = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_OUTPUT_BYTES) {
        killGroup();
        reject(new CollectionError('parse', `${program} wrote more than ${MAX_OUTPUT_BYTES} bytes`));
      } else {
        stdout.push(chunk);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < 4096) stderr += chunk;
    });
    child.once('error', (err) => {
      signal.removeEventListener('abort', killGroup);
      reject(new CollectionError('error', `cannot run ${program}: ${err.message}`));
    });
    child.once('close', (code, killedBy) => {
      signal.removeEventListener('abort', killGroup);
      // Leftover background processes of a finished command would otherwise pile up, one per collection.
      killGroup();
      resolve({ code, signal: killedBy, stdout: Buffer.concat(stdout).toString('utf8'), stderr });
    });
  });
}

function parseNumber(text: string, program: string): number {
  const value = Number(text.trim());
  if (text.trim() === '' || Number.isNaN(value))
    throw new CollectionError('parse', `the output of ${program} is not a number: ${JSON.stringify(text.trim().slice(0, 80))}`);
  return value;
}
