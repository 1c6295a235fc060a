import { type Attributes, diag } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import {
  DataPointType,
  type ExponentialHistogram,
  type Histogram,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { explicitBuckets } from './exponential-buckets.ts';
import type { ExpositionWriter } from './format.ts';
import { DEFAULT_TRANSLATION_STRATEGY, type TranslationStrategy, translatedLabelName, translatedName } from './metric-names.ts';
import { escapeLabelValue, escapeText, labelName, labelText, type ReservedLabels, sanitizeName } from './prometheus-names.ts';

/**
 * Prometheus text exposition (0.0.4) of the SDK's ResourceMetrics, written straight into one Buffer.
 *
 * The output is the same, byte for byte, as the SDK's stock PrometheusSerializer with the same options (the
 * test suite compares them): same names (`_total` on monotonic sums, invalid characters as `_`), families
 * merged across scopes in first-seen order, HELP/UNIT/TYPE, label escaping, histogram lines, `target_info`.
 * Where the stock one would write an unparseable page, this one follows OpenTelemetry's Prometheus compatibility
 * rules instead (prometheus-names.ts): label names that start with a digit or collide, labels the writer adds
 * itself (`le`, `otel_scope_*`), and families whose histogram lines another family's name would clash with.
 * What makes it fast:
 * - the label text of an attribute set is built once and kept while that attribute set lives, when the set is
 *   frozen (the source collector freezes the sets it keeps from one collection to the next, so unchanged
 *   series cost a lookup, not a rebuild); unfrozen sets may still change, so they are formatted every time;
 * - the lookup itself is mostly skipped: per metric, the previous exposition's sets are kept by position, and a
 *   point whose set is the very object at its position last time reuses that text;
 * - names, HELP/TYPE headers and the scope labels are built once per metric, not per point;
 * - lines go, piece by piece, into one Buffer sized after the previous exposition, instead of a concatenated
  string that is encoded again later.
 */
export interface PrometheusTextOptions {
  /** `otel_scope_name` / `otel_scope_version` / `otel_scope_schema_url` labels on every series. */
  readonly scopeLabels: boolean;
  /** The resource as a `target_info` series. */
  readonly targetInfo: boolean;
  /** What OpenTelemetry names become (metric-names.ts); UnderscoreEscapingWithSuffixes when not given. */
  readonly translationStrategy?: TranslationStrategy;
  /**
   * The exporter's own instrumentation scope: its metrics keep the default strategy's names whatever the strategy,
   * as their catalog defines them (prom-client's process_* names included, which dashboards rely on).
   */
  readonly ownScope?: { readonly name: string; readonly version: string };
}

type PromType = 'counter' | 'gauge' | 'histogram' | 'untyped';

interface Family {
  help: string;
  unit: string;
  type: PromType;
  dropped: boolean;
  readonly members: { readonly metric: MetricData; readonly scopeLabels: string; readonly scopeKey: string }[];
}

const NO_METRICS = '# no registered metrics';

export class PrometheusText implements ExpositionWriter {
  readonly #options: PrometheusTextOptions;
  readonly #strategy: TranslationStrategy;
  // Label text (`a="1",b="2"`, no braces) of frozen attribute sets, for plain series and for histograms (whose
  // `le` label is reserved). Names are sanitised here, so the cost is paid once per series, not per scrape.
  #labels = new WeakMap<Attributes, string>();
  readonly #histogramLabels = new WeakMap<Attributes, string>();
  readonly #reserved: ReservedLabels;
  readonly #histogramReserved: ReservedLabels;
  // Per metric (by scope and name): last exposition's frozen attribute sets and their label text, by position.
  // Sources tend to report the same series in the same order, so most points hit here by identity.
  readonly #positions = new Map<string, { attributes: (Attributes | undefined)[]; texts: string[]; used: number }>();
  #generation = 0;
  readonly #labelNames = new Map<string, string>();
  #conflicts = new Set<string>();
  #buffer = Buffer.allocUnsafe(0);
  #offset = 0;
  // Size of the previous exposition: the next one is written into a buffer of about that size.
  #lastSize = 0;

  constructor(options: PrometheusTextOptions) {
    this.#options = options;
    this.#strategy = options.translationStrategy ?? DEFAULT_TRANSLATION_STRATEGY;
    const scope = options.scopeLabels ? SCOPE_LABELS : [];
    this.#reserved = new Set(scope);
    this.#histogramReserved = new Set([...scope, 'le']);
  }

  /** The exposition as a new Buffer (it is not reused by later calls). */
  serialize(resourceMetrics: ResourceMetrics): Buffer {
    this.#offset = 0;
    this.#generation++;
    this.#buffer = Buffer.allocUnsafe(Math.max(16 * 1024, Math.ceil(this.#lastSize * 1.05)));
    const families = this.#families(resourceMetrics);
    // A metric of another type named target_info drops the family, the resource included.
    const info = families.get('target_info');
    if (this.#options.targetInfo && info && !info.dropped) this.#resource(resourceMetrics.resource, info);
    const start = this.#offset;
    for (const [name, family] of families) {
      if (family.dropped) continue;
      let writeHeader = !(name === 'target_info' && this.#options.targetInfo);
      for (const { metric, scopeLabels, scopeKey } of family.members) {
        if (this.#metric(name, family, metric, scopeLabels, `${scopeKey}\u0000${metric.descriptor.name}`, writeHeader)) writeHeader = false;
      }
    }
    for (const [key, positions] of this.#positions) if (positions.used !== this.#generation) this.#positions.delete(key);
    if (this.#offset === start) this.#write(NO_METRICS);
    const out = this.#buffer.subarray(0, this.#offset);
    this.#lastSize = this.#offset;
    this.#buffer = Buffer.allocUnsafe(0);
    return out;
  }

  #families(resourceMetrics: ResourceMetrics): Map<string, Family> {
    const families = new Map<string, Family>();
    const conflicts = new Set<string>();
    if (this.#options.targetInfo)
      families.set('target_info', { help: 'Target metadata', unit: '', type: 'gauge', dropped: false, members: [] });
    for (const { scope, metrics } of resourceMetrics.scopeMetrics) {
      const scopeKey = `${scope.name}\u0000${scope.version ?? ''}\u0000${scope.schemaUrl ?? ''}`;
      let scopeLabels = '';
      if (this.#options.scopeLabels) {
        scopeLabels = `otel_scope_name="${escapeLabelValue(scope.name)}"`;
        if (scope.schemaUrl) scopeLabels += `,otel_scope_schema_url="${escapeLabelValue(scope.schemaUrl)}"`;
        if (scope.version) scopeLabels += `,otel_scope_version="${escapeLabelValue(scope.version)}"`;
      }
      const ownScope = this.#options.ownScope;
      const own = ownScope !== undefined && scope.name === ownScope.name && scope.version === ownScope.version;
      for (const metric of metrics) {
        const name = metricName(metric, own ? DEFAULT_TRANSLATION_STRATEGY : this.#strategy);
        if (name === undefined) continue;
        const type = promType(metric);
        const family = families.get(name);
        if (family === undefined) {
          families.set(name, {
            help: metric.descriptor.description,
            unit: metric.descriptor.unit,
            type,
            dropped: false,
            members: [{ metric, scopeLabels, scopeKey }],
          });
        } else if (!family.dropped) {
          if (family.type !== type) {
            this.#conflict(conflicts, 'TYPE', name, family.type, type, undefined);
            family.dropped = true;
            family.members.length = 0;
          } else {
            family.members.push({ metric, scopeLabels, scopeKey });
          }
        }
      }
    }
    // A histogram family h writes h_count, h_sum and h_bucket lines: a family of one of those names would make the
    // page unparseable ("second TYPE line for metric name h"), so that family is dropped.
    for (const [name, family] of families) {
      if (family.dropped || family.type !== 'histogram') continue;
      for (const suffix of HISTOGRAM_SUFFIXES) {
        const other = families.get(name + suffix);
        if (other === undefined || other.dropped) continue;
        this.#conflict(conflicts, 'TYPE', name + suffix, `histogram ${name}`, other.type, undefined);
        other.dropped = true;
        other.members.length = 0;
      }
    }
    // HELP and UNIT: the first non-empty one wins; the first family member's counts as seen already.
    for (const [name, family] of families) {
      if (family.dropped) continue;
      for (const { metric } of family.members) {
        const { description: help, unit } = metric.descriptor;
        if (help) {
          if (!family.help) family.help = help;
          else if (family.help !== help) this.#conflict(conflicts, 'HELP', name, family.help, help, family.help);
        }
        if (unit) {
          if (!family.unit) family.unit = unit;
          else if (family.unit !== unit) this.#conflict(conflicts, 'UNIT', name, family.unit, unit, family.unit);
        }
      }
    }
    this.#conflicts = conflicts;
    return families;
  }

  // Warned once per episode: a conflict already reported by the previous serialization is not repeated.
  #conflict(current: Set<string>, kind: string, name: string, first: string, second: string, kept: string | undefined): void {
    const key = `${kind}:${name}:${kept ?? ''}`;
    if (current.has(key)) return;
    current.add(key);
    if (this.#conflicts.has(key)) return;
    const values = `${JSON.stringify(first)}, ${JSON.stringify(second)}`;
    diag.warn(
      kept === undefined
        ? `Conflicting ${kind} comments for metric "${name}": ${values}; dropping the metric.`
        : `Conflicting ${kind} comments for metric "${name}": ${values}; exporting ${JSON.stringify(kept)}.`,
    );
  }

  #header(name: string, family: Family): string {
    const unit = family.unit ? `# UNIT ${name} ${escapeText(family.unit)}\n` : '';
    return `# HELP ${name} ${escapeText(family.help || 'description missing')}\n${unit}# TYPE ${name} ${family.type}\n`;
  }

  #resource(resource: Resource, family: Family): void {
    this.#write(this.#header('target_info', family));
    const labels = labelText(resource.attributes, NONE_RESERVED, this.#names);
    this.#write(labels ? `target_info{${labels}} 1\n` : 'target_info 1\n');
  }

  /** Writes one metric; false when it wrote nothing. */
  #metric(name: string, family: Family, metric: MetricData, scopeLabels: string, key: string, writeHeader: boolean): boolean {
    const points = metric.dataPoints;
    if (!writeHeader && points.length === 0) return false;
    if (writeHeader) this.#write(this.#header(name, family));
    if (metric.dataPointType === DataPointType.SUM || metric.dataPointType === DataPointType.GAUGE) {
      // Pieces are written one by one: building each line as a string first would leave garbage per series.
      const bare = `${name} `;
      const open = `${name}{`;
      const close = scopeLabels === '' ? '} ' : `,${scopeLabels}} `;
      const onlyScope = `${name}{${scopeLabels}} `;
      let positions = this.#positions.get(key);
      if (positions === undefined) {
        positions = { attributes: [], texts: [], used: 0 };
        this.#positions.set(key, positions);
      } else if (positions.used === this.#generation) {
        // Two metrics with one scope and name in one exposition: the second gets a table of its own, not kept.
        positions = { attributes: [], texts: [], used: 0 };
      }
      positions.used = this.#generation;
      const known = positions.attributes;
      const texts = positions.texts;
      for (let i = 0; i < points.length; i++) {
        const point = points[i]!;
        const attributes = point.attributes;
        let labels: string;
        if (known[i] === attributes) {
          labels = texts[i]!;
        } else {
          labels = this.#labelText(attributes, this.#labels, this.#reserved);
          known[i] = Object.isFrozen(attributes) ? attributes : undefined;
          texts[i] = labels;
        }
        if (labels !== '') {
          this.#write(open);
          this.#write(labels);
          this.#write(close);
        } else {
          this.#write(scopeLabels === '' ? bare : onlyScope);
        }
        this.#write(numberText(point.value as number));
        this.#newline();
      }
      known.length = points.length;
      texts.length = points.length;
    } else if (metric.dataPointType === DataPointType.HISTOGRAM || metric.dataPointType === DataPointType.EXPONENTIAL_HISTOGRAM) {
      // Text has no exponential buckets: they are written as explicit ones (exponential-buckets.ts).
      const exponential = metric.dataPointType === DataPointType.EXPONENTIAL_HISTOGRAM;
      for (const point of points) {
        this.#histogram(
          name,
          this.#labelText(point.attributes, this.#histogramLabels, this.#histogramReserved),
          scopeLabels,
          exponential ? explicitBuckets(point.value as ExponentialHistogram) : (point.value as Histogram),
        );
      }
    } else {
      diag.error(`Unrecognizable DataPointType: ${(metric as MetricData).dataPointType} for metric "${name}"`);
    }
    return true;
  }

  #histogram(name: string, labels: string, scopeLabels: string, histogram: Histogram): void {
    const all = labels === '' ? scopeLabels : scopeLabels === '' ? labels : `${labels},${scopeLabels}`;
    const braces = all === '' ? ' ' : `{${all}} `;
    if (histogram.count != null) this.#write(`${name}_count${braces}${numberText(histogram.count)}\n`);
    if (histogram.sum != null) this.#write(`${name}_sum${braces}${numberText(histogram.sum)}\n`);
    const bucket = all === '' ? `${name}_bucket{le="` : `${name}_bucket{${all},le="`;
    const { boundaries, counts } = histogram.buckets;
    let cumulative = 0;
    let infinityDefined = false;
    for (let i = 0; i < counts.length; i++) {
      cumulative += counts[i]!;
      const upper = boundaries[i];
      if (upper === undefined && infinityDefined) break;
      if (upper === Infinity) infinityDefined = true;
      const le = upper === undefined || upper === Infinity ? '+Inf' : String(upper);
      this.#write(`${bucket}${le}"} ${numberText(cumulative)}\n`);
    }
  }

  #labelText(attributes: Attributes, kept: WeakMap<Attributes, string>, reserved: ReservedLabels): string {
    let text = kept.get(attributes);
    if (text !== undefined) return text;
    text = labelText(attributes, reserved, this.#names);
    if (Object.isFrozen(attributes)) kept.set(attributes, text);
    return text;
  }

  readonly #names = (key: string): string => {
    let name = this.#labelNames.get(key);
    if (name === undefined) {
      // The strategy's translation, then this format's escaping (classic label names only).
      name = labelName(translatedLabelName(key, this.#strategy));
      if (this.#labelNames.size < 10_000) this.#labelNames.set(key, name);
    }
    return name;
  };

  #write(text: string): void {
    // Three bytes per UTF-16 unit covers any UTF-8 encoding of the text.
    if (this.#offset + text.length * 3 > this.#buffer.length) this.#grow(text.length * 3);
    this.#offset += this.#buffer.write(text, this.#offset);
  }

  #newline(): void {
    if (this.#offset >= this.#buffer.length) this.#grow(1);
    this.#buffer[this.#offset++] = 10;
  }

  #grow(bytes: number): void {
    const grown = Buffer.allocUnsafe(Math.max(this.#offset + bytes, Math.ceil(this.#buffer.length * 1.5), 16 * 1024));
    this.#buffer.copy(grown, 0, 0, this.#offset);
    this.#buffer = grown;
  }
}

const SCOPE_LABELS = ['otel_scope_name', 'otel_scope_version', 'otel_scope_schema_url'];
const NONE_RESERVED: ReservedLabels = new Set();
const HISTOGRAM_SUFFIXES = ['_count', '_sum', '_bucket'];

function metricName(metric: MetricData, strategy: TranslationStrategy): string | undefined {
  // The strategy's translation, then this format's escaping (classic names only). HELP's escaping of `\` and
  // newline comes first, as in the stock serializer, so such names are written as they always were.
  const { name: given, unit } = metric.descriptor;
  const monotonic = metric.dataPointType === DataPointType.SUM && metric.isMonotonic;
  let name = sanitizeName(translatedName({ name: escapeText(given), unit }, metric.dataPointType, monotonic, strategy));
  if (name === '') {
    diag.error(`Normalization for metric "${given}" resulted in empty name`);
    return undefined;
  }
  if (name === '_') {
    diag.error(`Normalization for metric "${given}" resulted in an invalid name: "_"`);
    return undefined;
  }
  if (name[0]! >= '0' && name[0]! <= '9') name = `_${name}`;
  return name;
}

function promType(metric: MetricData): PromType {
  switch (metric.dataPointType) {
    case DataPointType.SUM:
      return metric.isMonotonic ? 'counter' : 'gauge';
    case DataPointType.GAUGE:
      return 'gauge';
    case DataPointType.HISTOGRAM:
    case DataPointType.EXPONENTIAL_HISTOGRAM:
      return 'histogram';
    default:
      return 'untyped';
  }
}

function numberText(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return `${value}`;
}
