import type { JsonValue } from 'jsonpath-rfc9535';
import { CollectionError } from '../collection-error.ts';
import { compileFormat, parseTime } from '../time-format.ts';
import type { TransformStep } from '../transform-schema.ts';

/**
 * Runs a metric's `transform:` steps on a value found in an untrusted document. A mapping with a `regex` step
 * always runs in a mapping worker (json-mapping.ts), which is terminated when the collection's deadline passes,
 * so a pattern that backtracks catastrophically costs that worker, never the event loop; and its input is
 * bounded, so that a merely polynomial pattern stays fast.
 */

/** The longest text a regex step reads; a longer one fails the collection with reason `value`. */
const MAX_REGEX_INPUT = 4096;

/** A value as it enters or leaves a step: a scalar, since steps read text and numbers. */
type Scalar = string | number | boolean | null;

const compiled = new Map<string, RegExp>();
const formats = new Map<string, ReturnType<typeof compileFormat>>();

/** `value` through every step of `steps`; throws a CollectionError (`value`) naming the metric, the step and its input. */
export function transformValue(metric: string, steps: readonly TransformStep[], value: JsonValue): Scalar {
  let current: JsonValue = value;
  steps.forEach((step, i) => {
    const fail = (why: string): never => {
      throw new CollectionError('value', `metric ${metric}: transform[${i}] ${stepName(step)}: ${why} (input ${shorten(current)})`);
    };
    if (current !== null && typeof current === 'object') fail('not a string or number');
    current = applyStep(step, current as Scalar, fail);
  });
  return current as Scalar;
}

function applyStep(step: TransformStep, input: Scalar, fail: (why: string) => never): Scalar {
  if (step === 'trim') return typeof input === 'string' ? input.trim() : input;
  if (step === 'lowercase') return typeof input === 'string' ? input.toLowerCase() : input;
  if ('scale' in step) {
    const number = typeof input === 'number' ? input : typeof input === 'string' && input.trim() !== '' ? Number(input) : Number.NaN;
    if (Number.isNaN(number)) fail('not a number');
    if (!Number.isFinite(number)) fail('out of range');
    const scaled = number * step.scale;
    if (!Number.isFinite(scaled)) fail(`out of range after scaling by ${step.scale}`);
    return scaled;
  }
  const text = String(input);
  if ('regex' in step) {
    if (text.length > MAX_REGEX_INPUT) fail(`longer than ${MAX_REGEX_INPUT} characters`);
    const match = cached(compiled, step.regex, () => new RegExp(step.regex)).exec(text);
    if (!match) fail(`does not match /${step.regex}/`);
    const captured = match!.groups?.value ?? match![1];
    if (captured === undefined) fail('the capturing group took no part in the match');
    return captured!;
  }
  const format = cached(formats, step.parseTime.format, () => compileFormat(step.parseTime.format));
  try {
    return parseTime(text, format, step.parseTime.timeZone);
  } catch (err) {
    return fail((err as Error).message);
  }
}

// Compiled once per worker (or process) for each pattern and format of the config, which bounds the maps.
function cached<T>(map: Map<string, T>, key: string, make: () => T): T {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

/** A step as its config names it: `regex`, `trim` … */
export function stepName(step: TransformStep): string {
  return typeof step === 'string' ? step : Object.keys(step)[0]!;
}

/** A value for a message: JSON, cut to about 64 characters. */
function shorten(value: JsonValue): string {
  if (value !== null && typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  const text = JSON.stringify(value);
  return text.length > 64 ? `${text.slice(0, 63)}…` : text;
}
