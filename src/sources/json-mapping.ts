import type { Attributes, BatchObservableResult, Meter, Observable } from '@opentelemetry/api';
import { type JsonValue, query } from 'jsonpath-rfc9535';
import parseJsonPath from 'jsonpath-rfc9535/parser';
import { z } from 'zod';
import { CollectionError } from './collection-error.ts';

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
  labels: z.record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'must be a label name (letters, digits, _)'), labelValue).default({}),
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

/** Instruments for `mappings`, and a function that observes a parsed document into them. */
export function createMapping(meter: Meter, mappings: readonly MetricMapping[]) {
  const instruments = mappings.map((m) => {
    const options = { description: m.help, unit: m.unit };
    if (m.type === 'counter') return meter.createObservableCounter(m.name, options);
    if (m.type === 'updowncounter') return meter.createObservableUpDownCounter(m.name, options);
    return meter.createObservableGauge(m.name, options);
  });
  return {
    instruments: instruments as Observable[],
    /** Observes every mapping; throws a CollectionError (`path` or `value`) when the document does not fit. */
    observe(document: JsonValue, result: BatchObservableResult): void {
      mappings.forEach((m, i) => {
        const elements = m.each === undefined ? [document] : query(document, m.each);
        if (m.each !== undefined && elements.length === 0)
          throw new CollectionError('path', `metric ${m.name}: each ${m.each} matched nothing`);
        for (const element of elements) {
          const value = toNumber(m, single(element, m.path, `metric ${m.name}: path`), m.valueMap);
          result.observe(instruments[i]!, value, labels(m, element));
        }
      });
    },
  };
}

function single(element: JsonValue, path: string, what: string): JsonValue {
  const found = query(element, path);
  if (found.length === 0) throw new CollectionError('path', `${what} ${path} matched nothing`);
  if (found.length > 1)
    throw new CollectionError('path', `${what} ${path} matched ${found.length} values (use each for one series per value)`);
  return found[0]!;
}

function labels(m: MetricMapping, element: JsonValue): Attributes {
  const attributes: Attributes = {};
  for (const [name, spec] of Object.entries(m.labels)) {
    if (!spec.startsWith('$')) {
      attributes[name] = spec;
      continue;
    }
    const value = single(element, spec, `metric ${m.name}: label ${name}`);
    if (value !== null && typeof value === 'object')
      throw new CollectionError('value', `metric ${m.name}: label ${name} ${spec} is not a string or number`);
    attributes[name] = String(value);
  }
  return attributes;
}

function toNumber(m: MetricMapping, value: JsonValue, valueMap: Readonly<Record<string, number>> | undefined): number {
  if (valueMap && (value === null || typeof value !== 'object')) {
    const mapped = valueMap[String(value)];
    if (mapped !== undefined) return mapped;
  }
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  throw new CollectionError(
    'value',
    `metric ${m.name}: ${JSON.stringify(value)?.slice(0, 80)} is not a number${valueMap ? ' nor in valueMap' : ''}`,
  );
}

/** Parses a document as JSON; a CollectionError `parse` when it is not. */
export function parseJson(text: string, what: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new CollectionError('parse', `${what} is not valid JSON: ${(err as Error).message}`);
  }
}
