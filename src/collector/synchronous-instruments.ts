import type { Meter } from '@opentelemetry/api';
import { emptyResource } from '@opentelemetry/resources';
import {
  type AggregationOption,
  AggregationType,
  DataPointType,
  type ExponentialHistogram,
  InstrumentType,
  MeterProvider,
  type MetricData,
  MetricReader,
} from '@opentelemetry/sdk-metrics';
import type { HistogramAggregation, HistogramAggregations } from '../config/resolved.ts';
import { downscaled } from '../exposition/exponential-buckets.ts';

// The SDK's name for the one series it folds every attribute set past the cardinality limit into.
const OVERFLOW = 'otel.metric.overflow';

/** A reader collected only on demand, by the source collector. */
class OnDemandReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const DEFAULT: AggregationOption = { type: AggregationType.DEFAULT };

/** The SDK aggregation of a histogram; explicit is the SDK's default one, which honours the instrument's advice. */
function aggregationOption(aggregation: HistogramAggregation): AggregationOption {
  return aggregation.kind === 'explicit'
    ? DEFAULT
    : { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: aggregation.maxSize } };
}

/**
 * One source's synchronous instruments (counter.add, histogram.record), in a MeterProvider of their own, created
 * the first time the source asks for one. The SDK cannot delete an instrument, so instruments on the shared
 * provider would be exported forever after a reload removed or restarted their source (issue 11); here they
 * live and go with the source, and are exported only through the source collector, like its observable ones,
 * with its series limit checked the same way.
 */
export class SynchronousInstruments {
  readonly #scope: string;
  readonly #seriesLimit: number;
  readonly #histograms: HistogramAggregations;
  #meter: Meter | undefined;
  #reader: OnDemandReader | undefined;

  constructor(scope: string, seriesLimit: number, histograms: HistogramAggregations) {
    this.#scope = scope;
    this.#seriesLimit = seriesLimit;
    this.#histograms = histograms;
  }

  get meter(): Meter {
    if (this.#meter === undefined) {
      const { default: fallback, instruments } = this.#histograms;
      // One series past the limit is the SDK's overflow series, which is how going over the limit shows.
      const reader = new OnDemandReader({
        cardinalitySelector: () => this.#seriesLimit + 1,
        // The default for every histogram, as the reader's default aggregation: a View matching all histograms
        // would also match the named ones below, and two Views on one instrument export it twice.
        aggregationSelector: (type) => (type === InstrumentType.HISTOGRAM ? aggregationOption(fallback) : DEFAULT),
      });
      const views = Object.entries(instruments).map(([instrumentName, aggregation]) => ({
        instrumentName,
        instrumentType: InstrumentType.HISTOGRAM,
        aggregation: aggregationOption(aggregation),
      }));
      this.#meter = new MeterProvider({ resource: emptyResource(), readers: [reader], views }).getMeter(this.#scope);
      this.#reader = reader;
    }
    return this.#meter;
  }

  /** What the instruments hold now, or why they cannot be exported: an instrument went over the series limit. */
  async collect(): Promise<{ readonly metrics: MetricData[] } | { readonly overflow: string }> {
    if (this.#reader === undefined) return { metrics: [] };
    const { resourceMetrics } = await this.#reader.collect();
    const metrics = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
    for (const { descriptor, dataPoints } of metrics) {
      if (dataPoints.length > this.#seriesLimit && dataPoints.some((p) => OVERFLOW in p.attributes)) {
        return {
          overflow: `instrument "${descriptor.name}" exceeded the series limit of ${this.#seriesLimit} (raise global.seriesLimit or reduce its labels)`,
        };
      }
    }
    return { metrics: metrics.map((metric) => this.#withinMaxScale(metric)) };
  }

  // The SDK has no maxScale: finer points are downscaled here, to what an SDK starting at maxScale would hold.
  #withinMaxScale(metric: MetricData): MetricData {
    if (metric.dataPointType !== DataPointType.EXPONENTIAL_HISTOGRAM) return metric;
    const aggregation = this.#histograms.instruments[metric.descriptor.name] ?? this.#histograms.default;
    if (aggregation.kind !== 'exponential') return metric;
    const { maxScale } = aggregation;
    if (metric.dataPoints.every((p) => (p.value as ExponentialHistogram).scale <= maxScale)) return metric;
    return { ...metric, dataPoints: metric.dataPoints.map((p) => ({ ...p, value: downscaled(p.value, maxScale) })) };
  }
}
