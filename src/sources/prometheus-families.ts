import { type Attributes, ValueType } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import {
  AggregationTemporality,
  type DataPoint,
  DataPointType,
  type Histogram,
  type MetricData,
  type MetricDescriptor,
} from '@opentelemetry/sdk-metrics';
import { sanitizeName } from '../exposition/prometheus-names.ts';
import { CollectionError } from './collection-error.ts';
import { numberText, type TextFamily, type TextSample } from './untrusted/prometheus-text-parser.ts';

/**
 * Families parsed from Prometheus text, as the ready-made MetricData a source adds to its collection (histograms
 * cannot be made from observable instruments, and the families are only known once the text is read).
 *
 * - counter → a monotonic sum named without `_total` (the exposition adds it back; OTLP gets the bare name, as
 *   OpenTelemetry names counters): a 0.0.4 counter named without `_total` is therefore exposed with it;
 * - gauge, untyped/unknown, stateset, info → gauges, named as their samples are (`x_info` for info);
 * - histogram → a histogram (its cumulative buckets as OpenTelemetry's per-bucket counts);
 * - summary → OpenTelemetry JS has no summary point: a gauge per quantile (`x{quantile="0.5"}`) and gauges
 *   `x_sum` and `x_count`, which keep every series name and value as written;
 * - gaugehistogram → gauges `x_bucket{le}`, `x_gcount`, `x_gsum`, likewise.
 * OpenMetrics `_created` samples, timestamps and exemplars are dropped.
 */
export function familiesToMetrics(families: readonly TextFamily[], what: string, startTime: number): MetricData[] {
  const now = millisToHrTime(Date.now());
  const start = millisToHrTime(startTime);
  const metrics: MetricData[] = [];
  for (const family of families) {
    if (OWN_NAMES.test(sanitizeName(family.name))) {
      throw new CollectionError('parse', `${what}: the metric name ${family.name} is reserved for the exporter's own metrics`);
    }
    const samples = family.samples.filter((s) => s.suffix !== '_created');
    if (samples.length === 0) continue;
    const descriptor = (name: string): MetricDescriptor => ({
      name,
      description: family.help,
      unit: family.unit,
      valueType: ValueType.DOUBLE,
    });
    if (family.type === 'counter') {
      const name = family.name.endsWith('_total') ? family.name.slice(0, -'_total'.length) : family.name;
      metrics.push({
        descriptor: descriptor(name),
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.SUM,
        isMonotonic: true,
        dataPoints: samples.map((s) => ({ startTime: start, endTime: now, attributes: s.labels, value: s.value })),
      });
    } else if (family.type === 'histogram') {
      metrics.push({
        descriptor: descriptor(family.name),
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.HISTOGRAM,
        dataPoints: histogramPoints(family.name, samples, what).map(([attributes, value]) => ({
          startTime: start,
          endTime: now,
          attributes,
          value,
        })),
      });
    } else {
      // One gauge per sample name, in the order the names first appear.
      const byName = new Map<string, DataPoint<number>[]>();
      for (const s of samples) {
        const name = family.name + s.suffix;
        let points = byName.get(name);
        if (points === undefined) {
          points = [];
          byName.set(name, points);
        }
        points.push({ startTime: now, endTime: now, attributes: s.labels, value: s.value });
      }
      for (const [name, dataPoints] of byName) {
        metrics.push({
          descriptor: descriptor(name),
          aggregationTemporality: AggregationTemporality.CUMULATIVE,
          dataPointType: DataPointType.GAUGE,
          dataPoints,
        });
      }
    }
  }
  return metrics;
}

// The exporter's own families: text read from outside cannot pass for them (a forged custom_exporter_source_up).
const OWN_NAMES = /^(custom_exporter_|target_info$)/;

interface Buckets {
  readonly attributes: Attributes;
  readonly bounds: [number, number][];
  sum: number | undefined;
  count: number | undefined;
}

// A histogram's series (its labels but `le`), each from its _bucket, _sum and _count samples.
function histogramPoints(name: string, samples: readonly TextSample[], what: string): [Attributes, Histogram][] {
  const series = new Map<string, Buckets>();
  for (const s of samples) {
    const { le, ...attributes } = s.labels;
    const key = JSON.stringify(Object.entries(attributes).sort());
    let entry = series.get(key);
    if (entry === undefined) {
      entry = { attributes, bounds: [], sum: undefined, count: undefined };
      series.set(key, entry);
    }
    if (s.suffix === '_bucket') entry.bounds.push([numberText(le!)!, s.value]);
    else if (s.suffix === '_sum') entry.sum = s.value;
    else entry.count = s.value;
  }
  return [...series.values()].map(({ attributes, bounds, sum, count }) => {
    bounds.sort((a, b) => a[0] - b[0]);
    const labels = JSON.stringify(attributes);
    if (bounds.at(-1)?.[0] !== Infinity) throw new CollectionError('parse', `${what}: histogram ${name}${labels} has no le="+Inf" bucket`);
    // Prometheus buckets are cumulative; OpenTelemetry's count each bucket alone.
    const counts = bounds.map(([, cumulative], i) => cumulative - (i === 0 ? 0 : bounds[i - 1]![1]));
    if (bounds.some(([le], i) => i > 0 && le === bounds[i - 1]![0]))
      throw new CollectionError('duplicate', `${what}: histogram ${name}${labels} has two buckets with the same le`);
    if (counts.some((c) => !(c >= 0)))
      throw new CollectionError('parse', `${what}: the buckets of histogram ${name}${labels} are not cumulative`);
    const boundaries = bounds.slice(0, -1).map(([le]) => le);
    return [attributes, { buckets: { boundaries, counts }, sum, count: count ?? bounds.at(-1)![1] }];
  });
}
