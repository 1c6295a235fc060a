import type { z } from 'zod';
import { optionsSchema, type SourceContext, type SourceDefinition } from './source.ts';
import type { ParseOptions, TextFamily } from './untrusted/prometheus-text-parser.ts';

/**
 * `output: prometheus` of the http, command and file kinds: the input is Prometheus text (0.0.4) or OpenMetrics,
 * whose families are exported as they are written, instead of JSON mapped by a `metrics:` list.
 */

/**
 * The http, command or file kind `definition` with its options checked for `output`: `metrics` is required by
 * JSON (and number) output and refused by Prometheus output.
 */
export function withOutputCheck<Options extends z.ZodObject>(definition: SourceDefinition<Options>): SourceDefinition<Options> {
  return {
    ...definition,
    options: (context) =>
      optionsSchema(definition as SourceDefinition, context).superRefine((options: { output?: unknown; metrics?: unknown }, ctx) => {
        if (options.output === 'prometheus' && options.metrics !== undefined)
          ctx.addIssue({ code: 'custom', path: ['metrics'], message: 'not used with output: prometheus (the text names its own metrics)' });
        if (options.output !== 'prometheus' && options.metrics === undefined)
          ctx.addIssue({ code: 'custom', path: ['metrics'], message: 'required (or set output: prometheus)' });
      }) as Options,
  };
}

/**
 * Parses `bytes` and adds their families to the collection being served (counters start at `startTime`).
 * Throws a CollectionError: `parse` (with the line), `duplicate`, `series_limit`.
 */
export async function producePrometheusText(
  bytes: Uint8Array,
  what: string,
  context: Pick<SourceContext<unknown>, 'produce' | 'seriesLimit' | 'collectionSignal'>,
  startTime: number,
): Promise<void> {
  const families = await readPrometheusText(bytes, { what, seriesLimit: context.seriesLimit }, context.collectionSignal());
  const { familiesToMetrics } = await import('./prometheus-families.ts');
  context.produce(familiesToMetrics(families, what, startTime));
}

// Text this small parses in place in about a millisecond at most (4 MiB took ~300 ms on a shared 2-core machine),
// less than a round trip to a worker adds; larger text is parsed in the mapping pool, off the event loop.
const INLINE_MAX_BYTES = 16 * 1024;

/** The families of `bytes`; beyond 16 KiB parsed in a worker thread, cancelled when `signal` aborts. */
export async function readPrometheusText(bytes: Uint8Array, options: ParseOptions, signal: AbortSignal): Promise<TextFamily[]> {
  // Both are loaded by the first source that reads Prometheus text, not at startup (idle memory: bench/).
  if (bytes.length <= INLINE_MAX_BYTES) return (await import('./untrusted/prometheus-text-parser.ts')).parsePrometheusText(bytes, options);
  const { parseInWorker } = await import('./untrusted/mapping-pool.ts');
  return parseInWorker({ ...options, bytes }, signal);
}
