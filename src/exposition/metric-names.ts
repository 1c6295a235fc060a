import { DataPointType, type MetricDescriptor } from '@opentelemetry/sdk-metrics';
import { labelName } from './prometheus-names.ts';

/**
 * What an OpenTelemetry metric name becomes in Prometheus, by the `translation_strategy` of OpenTelemetry's
 * Prometheus exporter specification (metrics/sdk_exporters/prometheus.md, "Translation Strategy") and the rules
 * of its "Prometheus and OpenMetrics Compatibility" document (OTLP Metric points to Prometheus: Metric Metadata,
 * Sums). Prometheus' own OTLP `translation_strategy` (prometheus/otlptranslator) takes the same four values.
 *
 * This is the first of two steps: the negotiated escaping scheme (escaping=underscores, dots, values, allow-utf-8)
 * is applied to the result afterwards, by the writer of the format, as the specification's "Interaction with
 * Translation Strategy" orders.
 */
export const TRANSLATION_STRATEGIES = [
  'UnderscoreEscapingWithSuffixes',
  'UnderscoreEscapingWithoutSuffixes',
  'NoUTF8EscapingWithSuffixes',
  'NoTranslation',
] as const;

export type TranslationStrategy = (typeof TRANSLATION_STRATEGIES)[number];

/** The specification's default strategy. */
export const DEFAULT_TRANSLATION_STRATEGY: TranslationStrategy = 'UnderscoreEscapingWithSuffixes';

/** Whether the strategy rewrites characters outside `[a-zA-Z0-9_:]` as `_` (in metric and label names). */
function escapesToUnderscores(strategy: TranslationStrategy): boolean {
  return strategy === 'UnderscoreEscapingWithSuffixes' || strategy === 'UnderscoreEscapingWithoutSuffixes';
}

/** Whether names keep characters outside the classic charset, for the format's escaping to deal with. */
export function keepsUtf8Names(strategy: TranslationStrategy): boolean {
  return !escapesToUnderscores(strategy);
}

/** Whether the strategy adds unit and type suffixes (`_seconds`, `_total`, `_ratio`). */
function addsSuffixes(strategy: TranslationStrategy): boolean {
  return strategy === 'UnderscoreEscapingWithSuffixes' || strategy === 'NoUTF8EscapingWithSuffixes';
}

// Compatibility spec, Metric Metadata: the table of UCUM units and their Prometheus words.
const UNIT_WORDS: Readonly<Record<string, string>> = {
  d: 'days',
  h: 'hours',
  min: 'minutes',
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  GiBy: 'gibibytes',
  TiBy: 'tebibytes',
  kBy: 'kilobytes',
  MBy: 'megabytes',
  GBy: 'gigabytes',
  TBy: 'terabytes',
  m: 'meters',
  V: 'volts',
  A: 'amperes',
  J: 'joules',
  W: 'watts',
  g: 'grams',
  Cel: 'celsius',
  Hz: 'hertz',
  '%': 'percent',
  // Dimensionless: no unit word; gauges get `_ratio` instead (typeSuffix).
  '1': '',
};

// The denominators of rates ("m/s" → "meters_per_second"), as Prometheus' translator words them: singular, and
// "m" is a minute here, not a meter.
const PER_UNIT_WORDS: Readonly<Record<string, string>> = {
  s: 'second',
  m: 'minute',
  h: 'hour',
  d: 'day',
  w: 'week',
  mo: 'month',
  y: 'year',
};

const INVALID = /[^a-zA-Z0-9_:]/g;
const UNDERSCORES = /_{2,}/g;
const NEEDS_UNDERSCORES = /[^a-zA-Z0-9_:]|__/;
const NOT_WORD = /[^a-zA-Z0-9_]/g;
const EDGE_UNDERSCORES = /^_+|_+$/g;

/** Characters outside `[a-zA-Z0-9_:]` as `_`, runs of `_` as one (compatibility spec, Metric Metadata). */
function underscores(text: string): string {
  // Most names need nothing: testing first spares two replacements per metric per scrape.
  return NEEDS_UNDERSCORES.test(text) ? text.replace(INVALID, '_').replace(UNDERSCORES, '_') : text;
}

/** One side of a unit: '' for none or an annotation (`{packet}`, dropped as the spec says), else its word. */
function unitPart(part: string | undefined, words: Readonly<Record<string, string>>): string {
  const unit = part?.trim() ?? '';
  if (unit === '' || unit.includes('{') || unit.includes('}')) return '';
  // Own keys only: a unit such as `constructor` is not a word of the table.
  return Object.hasOwn(words, unit) ? words[unit]! : unit;
}

/**
 * The unit word of a UCUM unit, as a name suffix without its `_`, or '' when it adds none. Compatibility spec,
 * Metric Metadata: the table's units become words (`s` → `seconds`, `By` → `bytes`); portions within braces are
 * dropped (`{request}` → none); rates become `<unit>_per_<unit>` (`m/s` → `meters_per_second`, `{request}/s` →
 * `per_second`); a unit outside the table is kept, with characters a name cannot hold as `_`. `1` has no word
 * (see typeSuffix). `utf8` keeps those characters (NoUTF8EscapingWithSuffixes).
 */
export function unitWord(unit: string, utf8 = false): string {
  if (unit === '') return '';
  const slash = unit.indexOf('/');
  const main = unitPart(slash === -1 ? unit : unit.slice(0, slash), UNIT_WORDS);
  const per = slash === -1 ? '' : unitPart(unit.slice(slash + 1), PER_UNIT_WORDS);
  const word = main !== '' && per !== '' ? `${main}_per_${per}` : per !== '' ? `per_${per}` : main;
  // A unit is a word: not even `:` (which metric names may hold) is kept.
  return utf8 ? word : word.replace(NOT_WORD, '_').replace(UNDERSCORES, '_').replace(EDGE_UNDERSCORES, '');
}

/**
 * The type suffix a Prometheus name carries, without its `_`: `total` for monotonic sums (Prometheus counters,
 * compatibility spec "Sums"), `ratio` for gauges whose unit is `1` (Prometheus' translator does this for
 * OpenTelemetry Gauges only, not for UpDownCounters: a count of things is often given the unit `1`).
 */
function typeSuffix(unit: string, dataPointType: DataPointType, isMonotonic: boolean): string {
  if (dataPointType === DataPointType.SUM && isMonotonic) return 'total';
  if (dataPointType === DataPointType.GAUGE && unit.trim() === '1') return 'ratio';
  return '';
}

const ALPHANUMERIC = /[a-zA-Z0-9]/;

/** `name` ending with the word `suffix`: after a separator (`_`, or `.` in a UTF-8 name), or as the whole name. */
function endsWithWord(name: string, suffix: string): boolean {
  if (!name.endsWith(suffix)) return false;
  const before = name[name.length - suffix.length - 1];
  return before === undefined || !ALPHANUMERIC.test(before);
}

/**
 * The Prometheus name of an OpenTelemetry metric under `strategy`, before the format's escaping:
 * - `UnderscoreEscapingWithSuffixes`: characters outside `[a-zA-Z0-9_:]` as `_`, runs of `_` as one; then the
 *   unit word unless the name already ends with it before any type suffix ("A suffix to the metric name SHOULD
 *   be added unless the metric name already ends with the unit (before type-specific suffixes)"), then `_total`
 *   or `_ratio`, each added once: `request_processing_seconds` with unit `s` stays, `foo_total` counter with unit
 *   `By` becomes `foo_bytes_total`.
 * - `UnderscoreEscapingWithoutSuffixes`: the same escaping, no suffix at all (not even `_total`).
 * - `NoUTF8EscapingWithSuffixes`: the name as it is, dots included, with the suffixes.
 * - `NoTranslation`: the name as it is.
 * '' when the name leaves nothing (or, escaped, nothing but `_`): no metric. A name that starts with a digit is
 * the writer's to prefix.
 */
export function translatedName(
  descriptor: Pick<MetricDescriptor, 'name' | 'unit'>,
  dataPointType: DataPointType,
  isMonotonic: boolean,
  strategy: TranslationStrategy,
): string {
  const utf8 = !escapesToUnderscores(strategy);
  let name = utf8 ? descriptor.name : underscores(descriptor.name);
  if (name === '' || (!utf8 && name === '_')) return '';
  if (!addsSuffixes(strategy)) return name;
  const type = typeSuffix(descriptor.unit, dataPointType, isMonotonic);
  if (type !== '' && endsWithWord(name, type) && name !== type) name = name.slice(0, -(type.length + 1));
  const unit = unitWord(descriptor.unit, utf8);
  if (unit !== '' && !endsWithWord(name, unit)) name = joined(name, unit);
  return type === '' ? name : joined(name, type);
}

/** `name_suffix`, without a second `_` when the name already ends with one (runs of `_` are one `_`). */
function joined(name: string, suffix: string): string {
  return name === '' || name.endsWith('_') ? `${name}${suffix}` : `${name}_${suffix}`;
}

/**
 * The Prometheus label name of an attribute key under `strategy`, before the format's escaping: the underscore
 * strategies apply the compatibility spec's Metric Attributes rule (prometheus-names.ts labelName); the UTF-8 ones
 * keep the key as it is ("NoTranslation ... bypasses all metric and label name translation").
 */
export function translatedLabelName(key: string, strategy: TranslationStrategy): string {
  return escapesToUnderscores(strategy) ? labelName(key) : key;
}
