import { createRequire } from 'node:module';
import type { BatchObservableResult, Meter, Observable } from '@opentelemetry/api';
import { z } from 'zod';
import type { MappedSeries, MappingJob } from './untrusted/map-document.ts';

// The JSONPath parser is loaded by the first config that has a mapping, not at startup (idle memory: bench/).
// Zod refinements are synchronous, hence require (the package ships CommonJS beside ESM).
let parser: ((path: string) => unknown) | undefined;
function parseJsonPath(path: string): unknown {
  parser ??= (createRequire(import.meta.url)('jsonpath-rfc9535/parser') as { default: (path: string) => unknown }).default;
  return parser(path);
}

/**
 * The `metrics:` list shared by the http, command and file kinds: each entry turns values found by JSONPath
 * (RFC 9535) in a JSON document into one observable instrument's series.
 */

/** A JSONPath such as `$.queues[*].depth`; its syntax is checked when the config is loaded. */
const jsonPath = z.string().superRefine((path, ctx) => {
  try {
    parseJsonPath(path);
  } catch (err) {
    const column = (err as { location?: { start?: { column?: number } } }).location?.start?.column;
    const where = column === undefined ? '' : ` at character ${column}`;
    ctx.addIssue({ code: 'custom', message: `invalid JSONPath "${path}"${where}: ${(err as Error).message}` });
  }
});

// A label is a JSONPath when it starts with `$`, else a literal value.
const labelValue = z.string().superRefine((value, ctx) => {
  if (!value.startsWith('$')) return;
  const parsed = jsonPath.safeParse(value);
  if (!parsed.success) for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message });
});

// Prometheus reserves label names starting with __; checked before z.record, which silently drops `__proto__`.
function reservedLabelNames(labels: unknown, ctx: z.RefinementCtx): unknown {
  if (labels !== null && typeof labels === 'object') {
    for (const name of Object.keys(labels)) {
      if (name.startsWith('__'))
        ctx.addIssue({ code: 'custom', path: [name], message: 'names starting with __ are reserved by Prometheus' });
    }
  }
  return labels;
}

const metricSchema = z.strictObject({
  /** Prometheus-style name; counters get `_total` added. */
  name: z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'must be a Prometheus metric name (letters, digits, _)'),
  type: z.enum(['gauge', 'counter', 'updowncounter']).default('gauge'),
  help: z.string().default(''),
  unit: z.string().default(''),
  /** One series per value this path matches inside the document; each element is the `$` of `path` and `labels`. */
  each: jsonPath.optional(),
  /** The value: relative to the document, or to the element of `each`. Must match exactly one value. */
  path: jsonPath.default('$'),
  /** Label name → literal, or a JSONPath (starting with `$`) matching one value. */
  labels: z.preprocess(
    reservedLabelNames,
    z.record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'must be a label name (letters, digits, _)'), labelValue).default({}),
  ),
  /** Strings (and true/false, null) to numbers, such as UP: 1, DOWN: 0. */
  valueMap: z.record(z.string(), z.number()).optional(),
});

export type MetricMapping = z.output<typeof metricSchema>;

export const metricsMappingSchema = z
  .array(metricSchema)
  .min(1, 'at least one metric is required')
  .superRefine((metrics, ctx) => {
    metrics.forEach((m, i) => {
      const other = metrics.findIndex((o) => o.name === m.name);
      if (other < i && metrics[other]!.type !== m.type) {
        ctx.addIssue({
          code: 'custom',
          path: [i, 'type'],
          message: `"${m.name}" is already a ${metrics[other]!.type} (metrics[${other}])`,
        });
      }
    });
  });

// A document this small (most answers) is mapped in place: it holds at most ~1000 values, which take ~10 ms of
// CPU at worst (JSONPath parses each path per element; measured), and usually well under the ~0.5 ms a round
// trip to a worker adds to every scrape.
const INLINE_MAX_BYTES = 2048;

/** Instruments for `mappings`, and a function that maps a document read from a source into them. */
export function createMapping(meter: Meter, mappings: readonly MetricMapping[], seriesLimit: number) {
  const instruments = mappings.map((m) => {
    const options = { description: m.help, unit: m.unit };
    if (m.type === 'counter') return meter.createObservableCounter(m.name, options);
    if (m.type === 'updowncounter') return meter.createObservableUpDownCounter(m.name, options);
    return meter.createObservableGauge(m.name, options);
  });
  return {
    instruments: instruments as Observable[],
    /**
     * Parses `bytes` (`format`: JSON, or one number) and observes every mapping; beyond 2 KiB in a worker
     * thread (issue 11), cancelled when `signal` aborts. Throws a CollectionError (`parse`, `path`, `value`, `series_limit`, `too_large`)
     * when the document does not fit.
     */
    async observe(
      document: { bytes: Uint8Array; format: 'json' | 'number'; what: string },
      result: BatchObservableResult,
      signal: AbortSignal,
    ): Promise<void> {
      const job = { ...document, mappings, seriesLimit };
      const series =
        document.bytes.length <= INLINE_MAX_BYTES
          ? (await import('./untrusted/map-document.ts')).mapDocument(job)
          : await mapOffThread(job, signal);
      series.forEach((observed, i) => {
        for (const [value, attributes] of observed) result.observe(instruments[i]!, value, attributes);
      });
    },
  };
}

// The pool is loaded on first use, so an exporter without large documents never loads worker_threads.
async function mapOffThread(job: MappingJob, signal: AbortSignal): Promise<MappedSeries[][]> {
  const { mapInWorker } = await import('./untrusted/mapping-pool.ts');
  return mapInWorker(job, signal);
}
