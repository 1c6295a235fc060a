import type { z } from 'zod';
import { optionsSchema, type SourceContext, type SourceDefinition } from './source.ts';

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
  context: Pick<SourceContext<unknown>, 'produce' | 'seriesLimit'>,
  startTime: number,
): Promise<void> {
  // Loaded by the first source with this output, not at startup (idle memory: bench/).
  const [{ parsePrometheusText }, { familiesToMetrics }] = await Promise.all([
    import('./untrusted/prometheus-text-parser.ts'),
    import('./prometheus-families.ts'),
  ]);
  const families = parsePrometheusText(bytes, { what, seriesLimit: context.seriesLimit });
  context.produce(familiesToMetrics(families, what, startTime));
}
