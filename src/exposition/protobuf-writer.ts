import { type Attributes, diag, type HrTime } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import { type DataPoint, DataPointType, type ExponentialHistogram, type Histogram, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { type Family as FamilyOf, type FamilyType, groupFamilies } from './families.ts';
import type { Escaping, ExpositionWriter } from './format.ts';
import { DEFAULT_TRANSLATION_STRATEGY, type TranslationStrategy, unitWord } from './metric-names.ts';
import { type NativeBuckets, type NativeHistogram, nativeHistogram } from './native-histogram.ts';
import { labelPairs, type ReservedLabels } from './prometheus-names.ts';
import { exposedLabelName, exposedName, type PrometheusTextOptions, SCOPE_LABELS } from './prometheus-text.ts';
import { ProtobufEncoder } from './protobuf-encoder.ts';

/**
 * Prometheus' protobuf exposition: length-delimited `io.prometheus.client.MetricFamily` messages (proto/metrics.proto),
 * encoded by hand (protobuf-encoder.ts) for speed and no runtime dependency.
 *
 * Families are those of the text writer: the same names (counters keep `_total`, as client_golang writes them in
 * protobuf and as Prometheus stores the samples: it takes a counter's family name as the series name), HELP,
 * labels (prometheus-names.ts), merging across scopes, the same conflict rules, `target_info`. Beyond text 0.0.4:
 * - counters and histograms carry `created_timestamp`, the points' start time;
 * - OpenTelemetry exponential histograms are native histograms (native-histogram.ts). Explicit-bucket histograms
 *   are classic ones. When one family has both kinds for one series (two views of one instrument), that series is
 *   one Histogram message with the classic buckets and the native ones, as client_golang writes a histogram that
 *   has both.
 */

// Field numbers and enum values of metrics.proto.
const FAMILY = { name: 1, help: 2, type: 3, metric: 4, unit: 5 } as const;
const METRIC = { label: 1, gauge: 2, counter: 3, histogram: 7 } as const;
const LABEL = { name: 1, value: 2 } as const;
const VALUE = { value: 1 } as const;
const COUNTER_CREATED = 3;
const HISTOGRAM = {
  sampleCount: 1,
  sampleSum: 2,
  bucket: 3,
  schema: 5,
  zeroThreshold: 6,
  zeroCount: 7,
  negativeSpan: 9,
  negativeDelta: 10,
  positiveSpan: 12,
  positiveDelta: 13,
  created: 15,
} as const;
const BUCKET = { cumulativeCount: 1, upperBound: 2 } as const;
const SPAN = { offset: 1, length: 2 } as const;
const TIMESTAMP = { seconds: 1, nanos: 2 } as const;
const METRIC_TYPE: Record<FamilyType, number> = { counter: 0, gauge: 1, untyped: 3, histogram: 4 };

/** A family whose members' scope labels are encoded (empty without scope labels). */
type Family = FamilyOf<Buffer>;

/** One series of a histogram family: its classic buckets, its native ones, or both. */
interface HistogramSeries {
  readonly attributes: Attributes;
  readonly scopeLabels: Buffer;
  classic: DataPoint<Histogram> | undefined;
  native: DataPoint<ExponentialHistogram> | undefined;
}

const NO_LABELS: ReservedLabels = new Set();

export class PrometheusProtobuf implements ExpositionWriter {
  readonly #options: PrometheusTextOptions;
  readonly #reserved: ReservedLabels;
  readonly #histogramReserved: ReservedLabels;
  // Encoded label pairs of frozen attribute sets (the collector keeps those from one collection to the next), for
  // plain series and for histograms (whose `le` is reserved: Prometheus adds it to the classic bucket series).
  readonly #labels = new WeakMap<Attributes, Buffer>();
  readonly #histogramLabels = new WeakMap<Attributes, Buffer>();
  readonly #labelNames = new Map<string, string>();
  // Per metric: the previous exposition's frozen attribute sets and their encoded labels, by position. Sources tend
  // to report the same series in the same order, so most points are found here by identity, without a WeakMap lookup.
  readonly #positions = new Map<string, { attributes: (Attributes | undefined)[]; labels: Buffer[]; used: number }>();
  #generation = 0;
  #encoder = new ProtobufEncoder(0);
  #lastSize = 0;
  #lastTimestamp: { readonly field: number; readonly time: HrTime; readonly bytes: Buffer } | undefined;
  // Warnings of the previous serialization: a condition that lasts is reported once, not at every scrape.
  #warned = new Set<string>();
  #warning = new Set<string>();

  readonly #strategy: TranslationStrategy;
  readonly #escaping: Escaping;

  /** `escaping`: how names the strategy keeps in UTF-8 are written (`allow-utf-8`: as they are). */
  constructor(options: PrometheusTextOptions, escaping: Escaping = 'underscores') {
    this.#options = options;
    this.#strategy = options.translationStrategy ?? DEFAULT_TRANSLATION_STRATEGY;
    this.#escaping = escaping;
    const scope = options.scopeLabels ? SCOPE_LABELS : [];
    this.#reserved = new Set(scope);
    this.#histogramReserved = new Set([...scope, 'le']);
  }

  serialize(resourceMetrics: ResourceMetrics): Buffer {
    const encoder = new ProtobufEncoder(Math.ceil(this.#lastSize * 1.05));
    this.#encoder = encoder;
    this.#warning = new Set();
    this.#generation++;
    for (const [name, family] of this.#families(resourceMetrics)) {
      if (family.dropped) continue;
      const start = encoder.length;
      const message = encoder.beginDelimited();
      encoder.string(FAMILY.name, name);
      encoder.string(FAMILY.help, family.help || 'description missing');
      encoder.uint(FAMILY.type, METRIC_TYPE[family.type]);
      const unit = unitOf(family);
      if (unit !== '' && unitEnds(name, unit)) encoder.string(FAMILY.unit, unit);
      let written = 0;
      if (name === 'target_info' && this.#options.targetInfo) written += this.#resource(resourceMetrics.resource);
      written += family.type === 'histogram' ? this.#histograms(name, family) : this.#numbers(family);
      // Prometheus has no use for a family without series (client_golang never writes one).
      if (written === 0) encoder.truncate(start);
      else encoder.end(message);
    }
    this.#warned = this.#warning;
    for (const [key, positions] of this.#positions) if (positions.used !== this.#generation) this.#positions.delete(key);
    const out = encoder.bytes();
    this.#lastSize = out.length;
    this.#encoder = new ProtobufEncoder(0);
    return out;
  }

  #families(resourceMetrics: ResourceMetrics): Map<string, Family> {
    const { ownScope, targetInfo } = this.#options;
    return groupFamilies(resourceMetrics, {
      targetInfo,
      name: (metric, scope) => {
        const own = ownScope !== undefined && scope.name === ownScope.name && scope.version === ownScope.version;
        return exposedName(metric, own ? DEFAULT_TRANSLATION_STRATEGY : this.#strategy, this.#escaping);
      },
      scopeLabels: (scope) => (this.#options.scopeLabels ? this.#scopeLabels(scope) : EMPTY),
      // The text writer warns about HELP and UNIT conflicts in the same collection; protobuf only drops families.
      conflict: (kind, name, first, second, kept) => {
        if (kept === undefined)
          this.#warn(`${kind}:${name}`, `Conflicting ${kind} for metric "${name}": ${first}, ${second}; dropping the metric.`);
      },
    });
  }

  #warn(key: string, message: string): void {
    if (this.#warning.has(key)) return;
    this.#warning.add(key);
    if (!this.#warned.has(key)) diag.warn(message);
  }

  #scopeLabels(scope: { name: string; version?: string; schemaUrl?: string }): Buffer {
    const start = this.#encoder.length;
    this.#labelPair('otel_scope_name', scope.name);
    if (scope.schemaUrl) this.#labelPair('otel_scope_schema_url', scope.schemaUrl);
    if (scope.version) this.#labelPair('otel_scope_version', scope.version);
    const labels = Buffer.from(this.#encoder.since(start));
    this.#encoder.truncate(start);
    return labels;
  }

  #resource(resource: Resource): number {
    const encoder = this.#encoder;
    const metric = encoder.begin(FAMILY.metric);
    const { labels, values } = labelPairs(resource.attributes, NO_LABELS, this.#names);
    for (let i = 0; i < labels.length; i++) this.#labelPair(labels[i]!, values[i]!);
    const gauge = encoder.begin(METRIC.gauge);
    encoder.double(VALUE.value, 1);
    encoder.end(gauge);
    encoder.end(metric);
    return 1;
  }

  /** Counters and gauges; returns how many series it wrote. */
  #numbers(family: Family): number {
    const encoder = this.#encoder;
    const counter = family.type === 'counter';
    const field = counter ? METRIC.counter : METRIC.gauge;
    let written = 0;
    for (const { metric, key, scopeLabels } of family.members) {
      const points = metric.dataPoints as DataPoint<number>[];
      const positions = this.#positionsOf(key);
      const known = positions.attributes;
      const encoded = positions.labels;
      for (let i = 0; i < points.length; i++) {
        const point = points[i]!;
        const message = encoder.begin(FAMILY.metric);
        const attributes = point.attributes;
        if (known[i] === attributes) {
          encoder.raw(encoded[i]!);
        } else {
          const labels = this.#attributeLabels(attributes, this.#labels, this.#reserved);
          known[i] = labels === undefined ? undefined : attributes;
          if (labels !== undefined) encoded[i] = labels;
        }
        encoder.raw(scopeLabels);
        const value = encoder.begin(field);
        encoder.double(VALUE.value, point.value);
        if (counter) this.#timestamp(COUNTER_CREATED, point.startTime);
        encoder.end(value);
        encoder.end(message);
      }
      known.length = points.length;
      encoded.length = Math.min(encoded.length, points.length);
      written += points.length;
    }
    return written;
  }

  #positionsOf(key: string): { attributes: (Attributes | undefined)[]; labels: Buffer[]; used: number } {
    let positions = this.#positions.get(key);
    if (positions === undefined) {
      positions = { attributes: [], labels: [], used: 0 };
      this.#positions.set(key, positions);
    } else if (positions.used === this.#generation) {
      // Two metrics of one scope and name in one exposition: the second gets a table of its own, not kept.
      positions = { attributes: [], labels: [], used: 0 };
    }
    positions.used = this.#generation;
    return positions;
  }

  /** Classic and native histograms; returns how many series it wrote. */
  #histograms(name: string, family: Family): number {
    const kinds = new Set(family.members.map((m) => m.metric.dataPointType));
    let written = 0;
    if (kinds.size === 1) {
      // The common case: each point is a series of its own.
      for (const { metric, scopeLabels } of family.members) {
        for (const point of metric.dataPoints) {
          const { attributes } = point;
          const series: HistogramSeries =
            metric.dataPointType === DataPointType.HISTOGRAM
              ? { attributes, scopeLabels, classic: point as DataPoint<Histogram>, native: undefined }
              : { attributes, scopeLabels, classic: undefined, native: point as DataPoint<ExponentialHistogram> };
          if (this.#histogram(name, series)) written++;
        }
      }
      return written;
    }
    // Classic and exponential metrics in one family: the points of one series (same labels) become one message.
    const bySeries = new Map<string, HistogramSeries>();
    for (const { metric, scopeLabels } of family.members) {
      for (const point of metric.dataPoints) {
        const key = this.#histogramSeriesKey(point.attributes, scopeLabels);
        let series = bySeries.get(key);
        if (series === undefined) {
          series = { attributes: point.attributes, scopeLabels, classic: undefined, native: undefined };
          bySeries.set(key, series);
        }
        if (metric.dataPointType === DataPointType.HISTOGRAM) series.classic ??= point as DataPoint<Histogram>;
        else series.native ??= point as DataPoint<ExponentialHistogram>;
      }
    }
    for (const series of bySeries.values()) if (this.#histogram(name, series)) written++;
    return written;
  }

  /** What tells a histogram series from the others of its family: its encoded labels. */
  #histogramSeriesKey(attributes: Attributes, scopeLabels: Buffer): string {
    const encoder = this.#encoder;
    const start = encoder.length;
    this.#attributeLabels(attributes, this.#histogramLabels, this.#histogramReserved);
    encoder.raw(scopeLabels);
    const key = encoder.since(start).toString('latin1');
    encoder.truncate(start);
    return key;
  }

  /** Writes one histogram series; false when there was nothing Prometheus can take. */
  #histogram(name: string, { attributes, scopeLabels, classic, native: point }: HistogramSeries): boolean {
    let native: NativeHistogram | undefined;
    if (point !== undefined) {
      native = nativeHistogram(point.value);
      if (native === undefined)
        this.#warn(
          `SCALE:${name}`,
          `Exponential histogram "${name}" has scale ${point.value.scale}, below the smallest native histogram schema (-4); not exported as native histogram.`,
        );
    }
    if (classic === undefined && native === undefined) return false;
    const encoder = this.#encoder;
    const message = encoder.begin(FAMILY.metric);
    this.#attributeLabels(attributes, this.#histogramLabels, this.#histogramReserved);
    encoder.raw(scopeLabels);
    const histogram = encoder.begin(METRIC.histogram);
    // Both views of one instrument saw the same observations: count and sum are the classic one's when there is one.
    const count = classic?.value.count ?? native!.count;
    const sum = classic === undefined ? native!.sum : classic.value.sum;
    encoder.uint(HISTOGRAM.sampleCount, count);
    if (sum != null) encoder.double(HISTOGRAM.sampleSum, sum);
    if (classic !== undefined) this.#classicBuckets(classic.value);
    this.#timestamp(HISTOGRAM.created, (classic ?? point!).startTime);
    if (native !== undefined) {
      encoder.sint(HISTOGRAM.schema, native.schema);
      encoder.double(HISTOGRAM.zeroThreshold, native.zeroThreshold);
      encoder.uint(HISTOGRAM.zeroCount, native.zeroCount);
      this.#nativeBuckets(HISTOGRAM.negativeSpan, HISTOGRAM.negativeDelta, native.negative);
      this.#nativeBuckets(HISTOGRAM.positiveSpan, HISTOGRAM.positiveDelta, native.positive);
    }
    encoder.end(histogram);
    encoder.end(message);
    return true;
  }

  #classicBuckets({ buckets: { boundaries, counts } }: Histogram): void {
    const encoder = this.#encoder;
    let cumulative = 0;
    for (let i = 0; i < counts.length; i++) {
      cumulative += counts[i]!;
      const upper = boundaries[i] ?? Infinity;
      const bucket = encoder.begin(HISTOGRAM.bucket);
      encoder.uint(BUCKET.cumulativeCount, cumulative);
      encoder.double(BUCKET.upperBound, upper);
      encoder.end(bucket);
      // A boundary of +Inf given explicitly already ends the buckets.
      if (upper === Infinity) break;
    }
  }

  // Repeated scalars are written unpacked, as metrics.proto (proto2, no [packed=true]) declares them.
  #nativeBuckets(spanField: number, deltaField: number, { spans, deltas }: NativeBuckets): void {
    const encoder = this.#encoder;
    for (const { offset, length } of spans) {
      const span = encoder.begin(spanField);
      encoder.sint(SPAN.offset, offset);
      encoder.uint(SPAN.length, length);
      encoder.end(span);
    }
    for (const delta of deltas) encoder.sint(deltaField, delta);
  }

  // The points of one metric share one start time (often the very same HrTime): its encoding is reused.
  #timestamp(field: number, time: HrTime): void {
    const encoder = this.#encoder;
    const last = this.#lastTimestamp;
    if (last !== undefined && last.field === field && last.time[0] === time[0] && last.time[1] === time[1]) {
      encoder.raw(last.bytes);
      return;
    }
    const start = encoder.length;
    const timestamp = encoder.begin(field);
    encoder.uint(TIMESTAMP.seconds, time[0]);
    if (time[1] !== 0) encoder.uint(TIMESTAMP.nanos, time[1]);
    encoder.end(timestamp);
    this.#lastTimestamp = { field, time, bytes: Buffer.from(encoder.since(start)) };
  }

  /** Writes the label pairs of an attribute set, encoded once per frozen set; returns that encoding if kept. */
  #attributeLabels(attributes: Attributes, kept: WeakMap<Attributes, Buffer>, reserved: ReservedLabels): Buffer | undefined {
    const encoder = this.#encoder;
    let encoded = kept.get(attributes);
    if (encoded !== undefined) {
      encoder.raw(encoded);
      return encoded;
    }
    const start = encoder.length;
    const { labels, values } = labelPairs(attributes, reserved, this.#names);
    for (let i = 0; i < labels.length; i++) this.#labelPair(labels[i]!, values[i]!);
    if (!Object.isFrozen(attributes)) return undefined;
    encoded = Buffer.from(encoder.since(start));
    kept.set(attributes, encoded);
    return encoded;
  }

  #labelPair(name: string, value: string): void {
    const encoder = this.#encoder;
    const pair = encoder.begin(METRIC.label);
    encoder.string(LABEL.name, name);
    encoder.string(LABEL.value, value);
    encoder.end(pair);
  }

  readonly #names = (key: string): string => {
    let name = this.#labelNames.get(key);
    if (name === undefined) {
      name = exposedLabelName(key, this.#strategy, this.#escaping);
      if (this.#labelNames.size < 10_000) this.#labelNames.set(key, name);
    }
    return name;
  };
}

const EMPTY = Buffer.alloc(0);

/**
 * Whether a family name ends with its unit (`_seconds` for `seconds`; a counter's `_total` aside): only then is the
 * unit written, as OpenMetrics (whose UNIT the protobuf `unit` field carries) requires.
 */
function unitEnds(name: string, unit: string): boolean {
  const base = name.endsWith('_total') ? name.slice(0, -'_total'.length) : name;
  return base.endsWith(`_${unit}`);
}

/** The unit as the name's suffix spells it (`s` → `seconds`, metric-names.ts). */
function unitOf(family: Family): string {
  return family.unit === '' ? '' : unitWord(family.unit, true);
}
