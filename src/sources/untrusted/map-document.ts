import type { Attributes } from '@opentelemetry/api';
import { exec, type JsonValue, query } from 'jsonpath-rfc9535';
import { CollectionError } from '../collection-error.ts';
import { ELEMENT_KEY } from '../element-key.ts';
import type { MetricMapping } from '../json-mapping.ts';
import { stepName, transformValue } from './transform-value.ts';

/**
 * Parsing and mapping of an untrusted document: plain data in, plain data out, so that it can run in a mapping
 * worker (mapping-worker.ts), where a large or hostile document costs the worker its time and memory, never the
 * event loop. Small documents run it in place (json-mapping.ts).
 */

export interface MappingJob {
  /** The answer, output or file as read (UTF-8); transferred to the worker, not copied. */
  readonly bytes: Uint8Array;
  /** `json`: a JSON document; `number`: one number, which is the document `$`. */
  readonly format: 'json' | 'number';
  /** What the document is, for messages: `the answer of https://…`, a file's path. */
  readonly what: string;
  readonly mappings: readonly MetricMapping[];
  /** Most series one instrument may have: mapping stops as soon as one goes over it. */
  readonly seriesLimit: number;
}

/** The series of one mapping: value and labels. */
export type MappedSeries = readonly [number, Attributes];

/** Each mapping's series, in the order of `job.mappings`; throws a CollectionError when the document does not fit. */
export function mapDocument(job: MappingJob): MappedSeries[][] {
  const text = new TextDecoder().decode(job.bytes);
  if (job.format === 'json') checkShape(text, job.what);
  const document = job.format === 'json' ? parseJson(text, job.what) : parseNumber(text, job.what);
  // Label sets by metric name: entries of one name are one instrument, so they must not repeat each other's either.
  const labelSets = new Map<string, Set<string>>();
  return job.mappings.map((m) => {
    const seen = labelSets.get(m.name) ?? new Set<string>();
    labelSets.set(m.name, seen);
    return mapOne(m, document, job.seriesLimit, seen);
  });
}

/** An element of `each` (or the document), with its member name or index in its parent when `@key` needs it. */
interface Element {
  readonly value: JsonValue;
  readonly key?: string | number;
}

function mapOne(m: MetricMapping, document: JsonValue, seriesLimit: number, seen: Set<string>): MappedSeries[] {
  const elements = eachElement(m, document);
  if (elements.length === 0 && !m.optional) throw new CollectionError('path', `metric ${m.name}: each ${m.each} matched nothing`);
  const series: MappedSeries[] = [];
  // `{ root }` labels have one value for all the elements: looked up once, not once per element.
  const root = new Map<string, JsonValue | undefined>();
  const fromRoot = (path: string, what: string) => {
    if (!root.has(path)) root.set(path, find(document, path, what));
    return root.get(path);
  };
  for (const element of elements) {
    const attributes = labels(m, element, fromRoot);
    if (attributes === undefined) continue;
    const value = seriesValue(m, element.value);
    if (value === undefined) continue;
    // One value per label set: two would be a silent last-wins (json_exporter #283, #394), so the collection fails.
    const id = JSON.stringify(Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : 1)));
    if (seen.has(id))
      throw new CollectionError('duplicate', `metric ${m.name}: more than one series with the labels ${render(attributes)}`);
    // Past the limit the collection fails anyway, so mapping stops there.
    if (series.length === seriesLimit) {
      throw new CollectionError(
        'series_limit',
        `instrument "${m.name}" exceeded the series limit of ${seriesLimit} (raise global.seriesLimit or reduce its labels)`,
      );
    }
    seen.add(id);
    series.push([value, attributes]);
  }
  return series;
}

function eachElement(m: MetricMapping, document: JsonValue): Element[] {
  if (m.each === undefined) return [{ value: document }];
  if (!Object.values(m.labels).includes(ELEMENT_KEY)) return query(document, m.each).map((value) => ({ value }));
  // Only @key needs the locations, which cost an array per match.
  const elements: Element[] = [];
  exec(document, m.each, (value, location) => {
    const key = location.at(-1);
    elements.push({ value, key: typeof key === 'string' ? memberName(key) : key });
  });
  return elements;
}

const NORMALIZED_ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', "'": "'", '\\': '\\' };

// The library gives a location's member names escaped as in a Normalized Path (RFC 9535 2.7): `\\`, `\'`, `\n`,
// `\u001f`; a label wants the name as the document has it.
function memberName(normalized: string): string {
  return normalized.replace(/\\(u[0-9a-f]{4}|.)/g, (_, sequence: string) =>
    sequence.length === 5 ? String.fromCharCode(Number.parseInt(sequence.slice(1), 16)) : NORMALIZED_ESCAPES[sequence]!,
  );
}

/** The value of one series, or undefined when an `optional` metric's path matched nothing. */
function seriesValue(m: MetricMapping, element: JsonValue): number | undefined {
  if (m.count !== undefined) return query(element, m.count).length;
  const path = m.path ?? '$';
  const found = find(element, path, `metric ${m.name}: path`);
  if (found === undefined) {
    if (m.default !== undefined) return m.default;
    if (m.optional) return undefined;
    throw new CollectionError('path', `metric ${m.name}: path ${path} matched nothing`);
  }
  if (!m.transform) return toNumber(m, found, '');
  const last = m.transform.length - 1;
  return toNumber(m, transformValue(m.name, m.transform, found), ` after transform[${last}] ${stepName(m.transform[last]!)}`);
}

/** The value at `path` in `element`; undefined when it matches nothing, an error when it matches several. */
function find(element: JsonValue, path: string, what: string): JsonValue | undefined {
  // `$` is the element itself (RFC 9535 2.2): skip parsing the path again for each of a million elements.
  if (path === '$') return element;
  const found = query(element, path);
  if (found.length > 1)
    throw new CollectionError('path', `${what} ${path} matched ${found.length} values (use each for one series per value)`);
  return found[0];
}

/** The labels of one series, or undefined when an `optional` metric's label path matched nothing. */
function labels(
  m: MetricMapping,
  element: Element,
  fromRoot: (path: string, what: string) => JsonValue | undefined,
): Attributes | undefined {
  const attributes: Attributes = {};
  for (const [name, spec] of Object.entries(m.labels)) {
    if (spec === ELEMENT_KEY) {
      if (element.key === undefined)
        throw new CollectionError('path', `metric ${m.name}: label ${name}: each ${m.each} matched the document itself, which has no key`);
      attributes[name] = String(element.key);
      continue;
    }
    if (typeof spec === 'string' && !spec.startsWith('$')) {
      attributes[name] = spec;
      continue;
    }
    const [path, what] = typeof spec === 'string' ? [spec, ''] : [spec.root, ' root'];
    const where = `metric ${m.name}: label ${name}${what}`;
    const value = typeof spec === 'string' ? find(element.value, path, where) : fromRoot(path, where);
    if (value === undefined) {
      if (m.optional) return undefined;
      throw new CollectionError('path', `metric ${m.name}: label ${name}${what} ${path} matched nothing`);
    }
    if (value !== null && typeof value === 'object')
      throw new CollectionError('value', `metric ${m.name}: label ${name}${what} ${path} is not a string or number`);
    attributes[name] = String(value);
  }
  return attributes;
}

function toNumber(m: MetricMapping, value: JsonValue, after: string): number {
  const { valueMap } = m;
  if (valueMap && (value === null || typeof value !== 'object')) {
    // Own keys only: an upstream "constructor" or "__proto__" must not find Object.prototype's members.
    const key = String(value);
    if (Object.hasOwn(valueMap, key)) return valueMap[key]!;
  }
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  throw new CollectionError('value', `metric ${m.name}: ${describe(value)}${after} is not a number${valueMap ? ' nor in valueMap' : ''}`);
}

/** A label set as Prometheus writes it, each value cut to 64 characters: `{queue="mail"}`. */
function render(attributes: Attributes): string {
  const pairs = Object.entries(attributes).map(([name, value]) => {
    const text = String(value);
    return `${name}=${JSON.stringify(text.length > 64 ? `${text.slice(0, 63)}…` : text)}`;
  });
  return `{${pairs.join(',')}}`;
}

/** A short description of a value for a message, without walking it (a document can be huge or deeply nested). */
function describe(value: JsonValue): string {
  if (Array.isArray(value)) return `an array of ${value.length} elements`;
  if (value !== null && typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  return String(value);
}

/** Most values (and object members) a document may hold: its parsed form, not its size, is what fills the worker. */
const MAX_VALUES = 150_000;
/** Deepest nesting of arrays and objects: JSONPath filters that compare values recurse into them. */
const MAX_DEPTH = 1000;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;

// Bounds what JSON.parse would build before it builds it (issue 11): a worker's heap limit alone does not
// bound its memory, since V8's parser and a single huge array allocate outside or beyond it. One pass over the
// text; strings are skipped, and every comma or opening bracket outside them counts as (at least) one value.
function checkShape(text: string, what: string): void {
  let values = 1;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === BACKSLASH) i++;
        else if (d === QUOTE) break;
      }
    } else if (c === COMMA) {
      values++;
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      values++;
      if (++depth > MAX_DEPTH) throw new CollectionError('parse', `${what} is nested deeper than ${MAX_DEPTH} levels`);
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--;
    }
    if (values > MAX_VALUES) throw new CollectionError('too_large', `${what} holds more than ${MAX_VALUES} values`);
  }
}

function parseJson(text: string, what: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new CollectionError('parse', `${what} is not valid JSON: ${(err as Error).message.slice(0, 200)}`);
  }
}

function parseNumber(text: string, what: string): number {
  const trimmed = text.trim();
  const value = Number(trimmed);
  if (trimmed === '' || Number.isNaN(value)) throw new CollectionError('parse', `${what} is not a number: ${describe(trimmed)}`);
  return value;
}
