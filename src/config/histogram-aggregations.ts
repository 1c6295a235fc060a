import type { HistogramAggregation, HistogramAggregations } from './resolved.ts';
import type { GlobalHistograms, SourceEntry } from './schema.ts';

type InstrumentHistograms = NonNullable<SourceEntry['histograms']>;

/**
 * One source's histogram aggregations, resolved once: global.histograms for every histogram, and for the
 * instruments the source names, their own fields over the global ones.
 */
export function histogramAggregations(global: GlobalHistograms, instruments: InstrumentHistograms | undefined): HistogramAggregations {
  const resolve = (given: InstrumentHistograms[string]): HistogramAggregation =>
    (given.aggregation ?? global.aggregation) === 'explicit'
      ? { kind: 'explicit' }
      : { kind: 'exponential', maxSize: given.maxSize ?? global.maxSize, maxScale: given.maxScale ?? global.maxScale };
  return {
    default: resolve({}),
    instruments: Object.fromEntries(Object.entries(instruments ?? {}).map(([name, given]) => [name, resolve(given)])),
  };
}
