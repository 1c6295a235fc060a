import { type Attributes, diag, type HrTime } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import {
  DataPointType,
  type ExponentialHistogram,
  type Histogram,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { escapeLabelName, escapeMetricName, isClassicLabelName, isClassicMetricName, quotedName } from './escaping.ts';
import { explicitBuckets } from './exponential-buckets.ts';
import { type FamilyType, groupFamilies, type Family as TextFamily } from './families.ts';
import type { Escaping, ExpositionFormat, ExpositionWriter, ScrapeProtocol } from './format.ts';
import {
  DEFAULT_TRANSLATION_STRATEGY,
  keepsUtf8Names,
  type TranslationStrategy,
  translatedLabelName,
  translatedName,
  unitWord,
} from './metric-names.ts';
import { canonicalNumber, createdText } from './openmetrics-numbers.ts';
import { escapeLabelValue, escapeText, labelName, labelText, type ReservedLabels, sanitizeName } from './prometheus-names.ts';

/**
 * The Prometheus text formats of the SDK's ResourceMetrics, written straight into one Buffer: text 0.0.4, text
 * 1.0.0 and OpenMetrics 1.0.0 / 0.0.1 (one writer per format, which fixes the dialect; all share the fast paths).
 *
 * Text 0.0.4 is the same, byte for byte, as the SDK's stock PrometheusSerializer with the same options (the
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
 *   string that is encoded again later.
 *
 * Text 1.0.0 is 0.0.4 with names outside the classic charset quoted under `escaping=allow-utf-8`
 * (`{"http.server.duration","k.v"="x"} 1`, `# TYPE "a.b" gauge`) and rewritten by the other schemes (escaping.ts).
 * OpenMetrics (OpenMetrics.md, "Text format"; client_golang writes the same body for 0.0.1 and 1.0.0, and so do we)
 * differs from 0.0.4 in: `# EOF` at the end; a counter family named without `_total` (its samples keep it) and a
 * `_created` sample after each counter and histogram point, from the point's start time; TYPE, UNIT, HELP in that
 * order, UNIT only where the name ends with `_<unit>`, HELP only when there is one, escaped like a label value;
 * histogram lines as buckets, `_count`, `_sum`, `_created`, with `le` in the canonical number form (`1.0`);
 * `target_info` as the `info` family `target`; untyped as `unknown`. A family whose name one of those sample names
 * would clash with is dropped (in OpenMetrics only), as the histogram rule does in every format.
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

/** The protocols this writer speaks (protobuf has a writer of its own). */
export type TextProtocol = Exclude<ScrapeProtocol, 'PrometheusProto'>;

const TEXT_0_0_4: ExpositionFormat & { readonly protocol: TextProtocol } = { protocol: 'PrometheusText0.0.4', escaping: 'underscores' };

type Family = TextFamily<string> & {
  /** The family's name in OpenMetrics: a counter's without `_total`, `target` for `target_info`. */
  omName?: string;
};

const NO_METRICS = '# no registered metrics';
const EOF = '# EOF\n';

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
  readonly #openMetrics: boolean;
  readonly #utf8Names: boolean;
  // Only the 1.0.0 formats carry an escaping; 0.0.4 and OpenMetrics 0.0.1 predate UTF-8 names: underscores.
  readonly #escaping: Escaping;
  // Names outside the classic charset are quoted (allow-utf-8); otherwise every name written is a classic one.
  readonly #quoting: boolean;

  constructor(options: PrometheusTextOptions, format: ExpositionFormat & { readonly protocol: TextProtocol } = TEXT_0_0_4) {
    this.#options = options;
    this.#strategy = options.translationStrategy ?? DEFAULT_TRANSLATION_STRATEGY;
    const scope = options.scopeLabels ? SCOPE_LABELS : [];
    this.#reserved = new Set(scope);
    this.#histogramReserved = new Set([...scope, 'le']);
    this.#openMetrics = format.protocol === 'OpenMetricsText1.0.0' || format.protocol === 'OpenMetricsText0.0.1';
    const escapes = format.protocol === 'PrometheusText1.0.0' || format.protocol === 'OpenMetricsText1.0.0';
    this.#escaping = escapes ? format.escaping : 'underscores';
    this.#utf8Names = keepsUtf8Names(this.#strategy);
    this.#quoting = this.#utf8Names && this.#escaping === 'allow-utf-8';
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
      for (const { metric, scopeLabels, key } of family.members) {
        if (this.#metric(name, family, metric, scopeLabels, key, writeHeader)) writeHeader = false;
      }
    }
    for (const [key, positions] of this.#positions) if (positions.used !== this.#generation) this.#positions.delete(key);
    // OpenMetrics allows no comment lines but the metadata and EOF: an empty exposition is just `# EOF`.
    if (this.#openMetrics) this.#write(EOF);
    else if (this.#offset === start) this.#write(NO_METRICS);
    const out = this.#buffer.subarray(0, this.#offset);
    this.#lastSize = this.#offset;
    this.#buffer = Buffer.allocUnsafe(0);
    return out;
  }

  #families(resourceMetrics: ResourceMetrics): Map<string, Family> {
    const conflicts = new Set<string>();
    const { ownScope, targetInfo } = this.#options;
    const families: Map<string, Family> = groupFamilies(resourceMetrics, {
      targetInfo,
      name: (metric, scope) => {
        const own = ownScope !== undefined && scope.name === ownScope.name && scope.version === ownScope.version;
        return this.#metricName(metric, own ? DEFAULT_TRANSLATION_STRATEGY : this.#strategy);
      },
      scopeLabels: (scope) => {
        if (!this.#options.scopeLabels) return '';
        let labels = `otel_scope_name="${escapeLabelValue(scope.name)}"`;
        if (scope.schemaUrl) labels += `,otel_scope_schema_url="${escapeLabelValue(scope.schemaUrl)}"`;
        if (scope.version) labels += `,otel_scope_version="${escapeLabelValue(scope.version)}"`;
        return labels;
      },
      conflict: (kind, name, first, second, kept) => this.#conflict(conflicts, kind, name, first, second, kept),
      clashes: this.#openMetrics ? (all) => this.#openMetricsClashes(all, conflicts) : undefined,
    });
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

  /**
   * OpenMetrics sample names a family writes beyond its own (OpenMetrics.md, "Suffixes"): a counter `x` writes
   * `x_total` and `x_created`, a histogram `h` also `h_created`, the info family `target` writes `target_info`.
   * Another family named like one of them, or with the same OpenMetrics name (a gauge `x` next to a counter
   * `x_total`), would make the exposition invalid ("Clashing name"): it is dropped, the first family keeping its names.
   */
  #openMetricsClashes(families: Map<string, Family>, conflicts: Set<string>): void {
    const byName = new Map<string, string[]>();
    for (const [name, family] of families) {
      family.omName = this.#options.targetInfo && name === 'target_info' ? 'target' : omName(name, family.type);
      const same = byName.get(family.omName);
      if (same === undefined) byName.set(family.omName, [name]);
      else same.push(name);
    }
    for (const [name, family] of families) {
      if (family.dropped) continue;
      const info = family.omName === 'target' && name === 'target_info';
      const suffixes = info ? ['', '_info'] : OPENMETRICS_SUFFIXES[family.type];
      if (suffixes === undefined || (family.type === 'counter' && family.omName === name)) continue;
      for (const suffix of suffixes) {
        for (const other of byName.get(family.omName + suffix) ?? []) {
          const clashing = families.get(other)!;
          if (other === name || clashing.dropped) continue;
          this.#conflict(conflicts, 'TYPE', other, `${info ? 'info' : family.type} ${family.omName}`, clashing.type, undefined);
          clashing.dropped = true;
          clashing.members.length = 0;
        }
      }
    }
  }

  #header(name: string, family: Family): string {
    if (this.#openMetrics) return this.#openMetricsHeader(name, family);
    const written = this.#headerName(name);
    const unit = family.unit ? `# UNIT ${written} ${escapeText(family.unit)}\n` : '';
    return `# HELP ${written} ${escapeText(family.help || 'description missing')}\n${unit}# TYPE ${written} ${family.type}\n`;
  }

  #openMetricsHeader(name: string, family: Family): string {
    const info = family.omName === 'target' && name === 'target_info';
    const familyName = family.omName ?? name;
    const written = this.#headerName(familyName);
    const type = info ? 'info' : family.type === 'untyped' || (family.type === 'counter' && familyName === name) ? 'unknown' : family.type;
    let header = `# TYPE ${written} ${type}\n`;
    // "If non-empty, [the unit] MUST be a suffix of the MetricFamily name separated by an underscore"; info has none.
    // The unit as the name's suffix spells it (`s` → `seconds`, metric-names.ts), so the rule holds for suffixed names.
    const unit = family.unit ? unitWord(family.unit, this.#utf8Names) : '';
    if (unit && !info && UNIT_TEXT.test(unit) && familyName.endsWith(`_${unit}`)) header += `# UNIT ${written} ${unit}\n`;
    // An empty HELP "MUST be treated as if no metadata line existed": none is written rather than a made-up one.
    if (family.help) header += `# HELP ${written} ${escapeLabelValue(family.help)}\n`;
    return header;
  }

  #resource(resource: Resource, family: Family): void {
    this.#write(this.#header('target_info', family));
    const labels = labelText(resource.attributes, NONE_RESERVED, this.#names);
    this.#write(`${this.#sample('target_info', labels)}1\n`);
  }

  /** Writes one metric; false when it wrote nothing. */
  #metric(name: string, family: Family, metric: MetricData, scopeLabels: string, key: string, writeHeader: boolean): boolean {
    const points = metric.dataPoints;
    if (!writeHeader && points.length === 0) return false;
    if (writeHeader) this.#write(this.#header(name, family));
    if (metric.dataPointType === DataPointType.SUM || metric.dataPointType === DataPointType.GAUGE) {
      // Pieces are written one by one: building each line as a string first would leave garbage per series.
      const bare = this.#sample(name, '');
      const open = this.#open(name);
      const close = scopeLabels === '' ? '} ' : `,${scopeLabels}} `;
      const onlyScope = this.#sample(name, scopeLabels);
      // OpenMetrics counters: a `_created` sample after each point, with the same labels.
      const created = this.#openMetrics && family.type === 'counter' && family.omName !== name ? `${family.omName}_created` : undefined;
      const createdBare = created === undefined ? '' : `\n${this.#sample(created, '')}`;
      const createdOpen = created === undefined ? '' : `\n${this.#open(created)}`;
      const createdOnlyScope = created === undefined ? '' : `\n${this.#sample(created, scopeLabels)}`;
      let createdAt: HrTime = [-1, -1];
      let createdValue = '';
      let createdEnd = '';
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
        let labelsAt = 0;
        let labelsEnd = 0;
        if (labels !== '') {
          this.#write(open);
          labelsAt = this.#offset;
          this.#write(labels);
          labelsEnd = this.#offset;
          this.#write(close);
        } else {
          this.#write(scopeLabels === '' ? bare : onlyScope);
        }
        this.#write(numberText(point.value as number));
        if (created === undefined) {
          this.#newline();
          continue;
        }
        // The points of one instrument usually share their start time: the created line's end is made once for it.
        const start = point.startTime;
        if (start[0] !== createdAt[0] || start[1] !== createdAt[1]) {
          createdAt = start;
          createdValue = `${createdText(start)}\n`;
          createdEnd = `${close}${createdValue}`;
        }
        if (labels !== '') {
          this.#write(createdOpen);
          // The label bytes just written for the value line, copied rather than encoded again.
          this.#copy(labelsAt, labelsEnd);
          this.#write(createdEnd);
        } else {
          this.#write(scopeLabels === '' ? createdBare : createdOnlyScope);
          this.#write(createdValue);
        }
      }
      known.length = points.length;
      texts.length = points.length;
    } else if (metric.dataPointType === DataPointType.HISTOGRAM || metric.dataPointType === DataPointType.EXPONENTIAL_HISTOGRAM) {
      // Text has no exponential buckets: they are written as explicit ones (exponential-buckets.ts).
      const exponential = metric.dataPointType === DataPointType.EXPONENTIAL_HISTOGRAM;
      for (const point of points) {
        const labels = this.#labelText(point.attributes, this.#histogramLabels, this.#histogramReserved);
        const all = labels === '' ? scopeLabels : scopeLabels === '' ? labels : `${labels},${scopeLabels}`;
        const histogram = exponential ? explicitBuckets(point.value as ExponentialHistogram) : (point.value as Histogram);
        if (this.#openMetrics) this.#openMetricsHistogram(name, all, histogram, point.startTime);
        else this.#histogram(name, all, histogram);
      }
    } else {
      diag.error(`Unrecognizable DataPointType: ${(metric as MetricData).dataPointType} for metric "${name}"`);
    }
    return true;
  }

  #histogram(name: string, all: string, histogram: Histogram): void {
    if (histogram.count != null) this.#write(`${this.#sample(`${name}_count`, all)}${numberText(histogram.count)}\n`);
    if (histogram.sum != null) this.#write(`${this.#sample(`${name}_sum`, all)}${numberText(histogram.sum)}\n`);
    const bucket = `${this.#open(`${name}_bucket`)}${all === '' ? '' : `${all},`}le="`;
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

  /**
   * OpenMetrics.md, "Histogram": buckets in increasing `le` (canonical numbers), the `+Inf` bucket, then `_count` and
   * `_sum` (both or neither: a sum MUST NOT be written when it is negative or buckets are, as it is then no counter),
   * then `_created`.
   */
  #openMetricsHistogram(name: string, all: string, histogram: Histogram, startTime: HrTime): void {
    const bucket = `${this.#open(`${name}_bucket`)}${all === '' ? '' : `${all},`}le="`;
    const { boundaries, counts } = histogram.buckets;
    let cumulative = 0;
    for (let i = 0; i < counts.length; i++) {
      cumulative += counts[i]!;
      const upper = boundaries[i] ?? Infinity;
      this.#write(`${bucket}${canonicalNumber(upper)}"} ${numberText(cumulative)}\n`);
      if (upper === Infinity) break;
    }
    const { count, sum } = histogram;
    if (count != null && sum != null && sum >= 0 && (boundaries[0] ?? 0) >= 0) {
      this.#write(`${this.#sample(`${name}_count`, all)}${numberText(count)}\n`);
      this.#write(`${this.#sample(`${name}_sum`, all)}${numberText(sum)}\n`);
    }
    this.#write(`${this.#sample(`${name}_created`, all)}${createdText(startTime)}\n`);
  }

  /** A sample's name and labels up to its value: `name{labels} `, `name `, or quoted `{"a.b",labels} `. */
  #sample(name: string, labels: string): string {
    if (!this.#quoting || isClassicMetricName(name)) return labels === '' ? `${name} ` : `${name}{${labels}} `;
    return labels === '' ? `{${quotedName(name)}} ` : `{${quotedName(name)},${labels}} `;
  }

  /** A sample's name and the start of its labels, which the caller closes: `name{` or `{"a.b",`. */
  #open(name: string): string {
    return !this.#quoting || isClassicMetricName(name) ? `${name}{` : `{${quotedName(name)},`;
  }

  #headerName(name: string): string {
    return !this.#quoting || isClassicMetricName(name) ? name : quotedName(name);
  }

  /** exposedName, and OpenMetrics' `_total` on a counter's samples whatever the strategy (it has no other kind). */
  #metricName(metric: MetricData, strategy: TranslationStrategy): string | undefined {
    const name = exposedName(metric, strategy, this.#escaping);
    const monotonic = metric.dataPointType === DataPointType.SUM && metric.isMonotonic;
    return name !== undefined && this.#openMetrics && monotonic && !name.endsWith('_total') ? `${name}_total` : name;
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
      // The strategy's translation, then this format's escaping.
      name = exposedLabelName(key, this.#strategy, this.#escaping);
      if (this.#quoting && name !== '' && !isClassicLabelName(name)) name = quotedName(name);
      if (this.#labelNames.size < 10_000) this.#labelNames.set(key, name);
    }
    return name;
  };

  #write(text: string): void {
    const length = text.length;
    // Three bytes per UTF-16 unit covers any UTF-8 encoding of the text.
    if (this.#offset + length * 3 > this.#buffer.length) this.#grow(length * 3);
    if (length <= SHORT_TEXT) {
      // Most pieces are short and ASCII (`} `, a value, a name): copied here, without a call into the encoder.
      const buffer = this.#buffer;
      let at = this.#offset;
      for (let i = 0; i < length; i++) {
        const code = text.charCodeAt(i);
        if (code >= 0x80) {
          this.#offset += buffer.write(text, this.#offset);
          return;
        }
        buffer[at++] = code;
      }
      this.#offset = at;
      return;
    }
    this.#offset += this.#buffer.write(text, this.#offset);
  }

  /** Writes again the bytes at [from, to) of this exposition. */
  #copy(from: number, to: number): void {
    if (this.#offset + (to - from) > this.#buffer.length) this.#grow(to - from);
    this.#offset += this.#buffer.copy(this.#buffer, this.#offset, from, to);
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

/** Text up to this length is written by a loop in JavaScript, longer text by the UTF-8 encoder. */
const SHORT_TEXT = 16;
export const SCOPE_LABELS = ['otel_scope_name', 'otel_scope_version', 'otel_scope_schema_url'];
const NONE_RESERVED: ReservedLabels = new Set();
/** The sample names a family of each type writes in OpenMetrics, on top of its name (OpenMetrics.md, "Suffixes"). */
const OPENMETRICS_SUFFIXES: Partial<Record<FamilyType, readonly string[]>> = {
  counter: ['', '_total', '_created'],
  histogram: ['', '_bucket', '_count', '_sum', '_created'],
};
/** `# UNIT` text: `*metricname-char` in the OpenMetrics ABNF. */
const UNIT_TEXT = /^[a-zA-Z0-9_:]+$/;

/** A family's OpenMetrics name: a counter's without the `_total` its samples keep. */
function omName(name: string, type: FamilyType): string {
  return type === 'counter' && name.endsWith('_total') ? name.slice(0, -6) : name;
}

/**
 * The name a metric's family is exposed under, in every format: under the underscore strategies translated and
 * sanitised (metricName); under the UTF-8 ones translated as given, then escaped as the scraper asked (a name
 * that `allow-utf-8` keeps is the writer's to quote). Undefined when nothing is left of it.
 */
export function exposedName(metric: MetricData, strategy: TranslationStrategy, escaping: Escaping): string | undefined {
  if (!keepsUtf8Names(strategy)) return metricName(metric, strategy);
  const { name: given, unit } = metric.descriptor;
  const monotonic = metric.dataPointType === DataPointType.SUM && metric.isMonotonic;
  const translated = translatedName({ name: given, unit }, metric.dataPointType, monotonic, strategy);
  return translated === '' ? undefined : escapeMetricName(translated, escaping);
}

/** The label name of an attribute key, in every format: the strategy's translation, then the scraper's escaping. */
export function exposedLabelName(key: string, strategy: TranslationStrategy, escaping: Escaping): string {
  return keepsUtf8Names(strategy) ? escapeLabelName(key, escaping) : labelName(translatedLabelName(key, strategy));
}

/**
 * The family name of a metric under an underscore-escaping strategy, as every exposition format writes it
 * (undefined when nothing is left of it): the strategy's translation, then the classic charset. HELP's escaping
 * of `\` and newline comes first, as in the stock serializer, so such names are written as they always were.
 */
function metricName(metric: MetricData, strategy: TranslationStrategy): string | undefined {
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

function numberText(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return `${value}`;
}
