import { createRequire } from 'node:module';
import type { BatchObservableResult, Meter, Observable } from '@opentelemetry/api';
import { z } from 'zod';
import { ELEMENT_KEY } from './element-key.ts';
import { transformSchema } from './transform-schema.ts';
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

// A label is a JSONPath when it starts with `$`, else `@key` (element-key.ts) or a literal value.
const labelValue = z.string().superRefine((value, ctx) => {
  if (!value.startsWith('$')) return;
  const parsed = jsonPath.safeParse(value);
  if (!parsed.success) for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message });
});

// Or a JSONPath from the document's root, inside `each` too: a field of its own rather than a `$$` that reads like `$`.
const labelSource = z.union([labelValue, z.strictObject({ root: jsonPath })], {
  error: (issue) => (issue.code === 'invalid_union' ? 'a label is a literal, a JSONPath ($…), @key or { root: $… }' : undefined),
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

const metricSchema = z
  .strictObject({
    /** Prometheus-style name; counters get `_total` added. */
    name: z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'must be a Prometheus metric name (letters, digits, _)'),
    type: z.enum(['gauge', 'counter', 'updowncounter']).default('gauge'),
    help: z.string().default(''),
    unit: z.string().default(''),
    /** One series per value this path matches inside the document; each element is the `$` of `path` and `labels`. */
    each: jsonPath.optional(),
    /** The value: relative to the document, or to the element of `each`. Must match exactly one value; `$` when left out. */
    path: jsonPath.optional(),
    /** The value is how many values this path matches (relative like `path`), instead of one value. */
    count: jsonPath.optional(),
    /** Label name → literal, a JSONPath (starting with `$`) matching one value, `@key`, or `{ root: $… }`. */
    labels: z.preprocess(
      reservedLabelNames,
      z.record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'must be a label name (letters, digits, _)'), labelSource).default({}),
    ),
    /** Steps from the value found to the number (transform-schema.ts), before valueMap. */
    transform: transformSchema.optional(),
    /** Strings (and true/false, null) to numbers, such as UP: 1, DOWN: 0. */
    valueMap: z.record(z.string(), z.number()).optional(),
    /** A path (of each, path or a label) that matches nothing gives no series instead of failing the collection (json_exporter #337). */
    optional: z.boolean().default(false),
    /** The value when `path` matches nothing (used as it is: no transform, no valueMap). */
    default: z.number().optional(),
  })
  .superRefine((m, ctx) => {
    if (m.count !== undefined) {
      for (const field of ['path', 'transform', 'valueMap', 'default'] as const) {
        if (m[field] !== undefined)
          ctx.addIssue({ code: 'custom', path: [field], message: 'count is the value: leave out path, transform, valueMap and default' });
      }
    }
    if (m.each === undefined) {
      for (const [name, spec] of Object.entries(m.labels)) {
        if (spec === ELEMENT_KEY)
          ctx.addIssue({ code: 'custom', path: ['labels', name], message: '@key is the key of an element of each: give each' });
      }
    }
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
  // A regex may backtrack catastrophically on a crafted answer: only a worker can be stopped at the deadline.
  const inlineMaxBytes = mappings.some((m) => m.transform?.some((step) => typeof step === 'object' && 'regex' in step))
    ? -1
    : INLINE_MAX_BYTES;
  return {
    instruments: instruments as Observable[],
    /**
     * Parses `bytes` (`format`: JSON, or one number) and observes every mapping; beyond 2 KiB in a worker
     * thread (issue 11), and always with a regex transform, cancelled when `signal` aborts. Throws a CollectionError
     * (`parse`, `path`, `value`, `duplicate`, `series_limit`, `too_large`) when the document does not fit.
     */
    async observe(
      document: { bytes: Uint8Array; format: 'json' | 'number'; what: string },
      result: BatchObservableResult,
      signal: AbortSignal,
    ): Promise<void> {
      const job = { ...document, mappings, seriesLimit };
      const series =
        document.bytes.length <= inlineMaxBytes
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
