import type { ExponentialHistogram } from '@opentelemetry/sdk-metrics';

/**
 * OpenTelemetry exponential histograms as Prometheus native histograms (metrics.proto `Histogram`, native part).
 *
 * Both are base-2 exponential with base 2^(2^-scale); Prometheus calls the scale `schema` and accepts -4..8.
 * - A scale above 8 is downscaled to 8: every 2^(scale-8) neighbouring buckets merge into one (an OTel index i
 *   becomes i >> (scale-8), the bucket at the lower scale that contains it).
 * - A scale below -4 has no Prometheus schema: the point cannot be written (Prometheus' own OTLP translator
 *   rejects it too, `otlptranslator/prometheusremotewrite/histograms.go`).
 * - OTel bucket i covers (base^i, base^(i+1)], Prometheus bucket i covers (base^(i-1), base^i]: the Prometheus
 *   index is the OTel index plus one.
 * - Buckets are written as spans of consecutive buckets and count deltas. As client_golang does (`makeBuckets`
 *   in prometheus/histogram.go), a gap of one or two empty buckets is written as zero buckets inside the span,
 *   a longer gap starts a new span: that is the smaller encoding.
 */

/** The largest and smallest schema Prometheus accepts for exponential buckets (metrics.proto, `schema`). */
const MAX_SCHEMA = 8;
const MIN_SCHEMA = -4;

/**
 * The JS SDK counts only exact zeros in the zero bucket (its zero threshold is 0, and OTLP's zero_threshold is not
 * exposed). Prometheus needs a positive threshold to tell a native histogram from a classic one (2.x parsers check
 * `zero_threshold > 0` among others), so this is the one Prometheus' OTLP translator uses (`defaultZeroThreshold`):
 * far below any value a metric observes, so only zeros fall in it.
 */
export const ZERO_THRESHOLD = 1e-128;

/** Gaps of up to this many empty buckets stay inside a span as zero counts (client_golang's rule). */
const MAX_GAP_IN_SPAN = 2;

interface BucketSpan {
  /** Gap to the previous span's end, or the first bucket's index for the first span. */
  readonly offset: number;
  readonly length: number;
}

/** One side (positive or negative) of a native histogram: spans, and each bucket's count minus the previous one's. */
export interface NativeBuckets {
  readonly spans: readonly BucketSpan[];
  readonly deltas: readonly number[];
}

export interface NativeHistogram {
  readonly schema: number;
  readonly zeroThreshold: number;
  readonly zeroCount: number;
  readonly count: number;
  readonly sum: number | undefined;
  readonly positive: NativeBuckets;
  readonly negative: NativeBuckets;
}

/** The native histogram of an exponential histogram point, or undefined when its scale is below MIN_SCHEMA. */
export function nativeHistogram(point: ExponentialHistogram): NativeHistogram | undefined {
  if (point.scale < MIN_SCHEMA) return undefined;
  const scaleDown = Math.max(0, point.scale - MAX_SCHEMA);
  return {
    schema: point.scale - scaleDown,
    zeroThreshold: ZERO_THRESHOLD,
    zeroCount: point.zeroCount,
    count: point.count,
    sum: point.sum,
    positive: nativeBuckets(point.positive.offset, point.positive.bucketCounts, scaleDown),
    negative: nativeBuckets(point.negative.offset, point.negative.bucketCounts, scaleDown),
  };
}

/**
 * OTel buckets (`counts[k]` is bucket `offset + k`) as Prometheus spans and deltas, merged 2^scaleDown at a time.
 * Empty buckets never start or end a span.
 */
export function nativeBuckets(offset: number, counts: readonly number[], scaleDown: number): NativeBuckets {
  const spans: BucketSpan[] = [];
  const deltas: number[] = [];
  // The bucket being merged: its Prometheus index and count; written once the next index is reached.
  let index = 0;
  let count = 0;
  // The last written bucket's index and count, and the open span (pushed when a gap ends it, or at the end).
  let lastIndex = 0;
  let lastCount = 0;
  let spanOffset = 0;
  let spanLength = 0;
  const flush = (): void => {
    if (count === 0) return;
    if (spanLength === 0) {
      spanOffset = index;
    } else {
      const gap = index - lastIndex - 1;
      if (gap > MAX_GAP_IN_SPAN) {
        spans.push({ offset: spanOffset, length: spanLength });
        spanOffset = gap;
        spanLength = 0;
      } else {
        // The first empty bucket drops from the last count to zero; the others stay at zero.
        for (let g = 0; g < gap; g++) deltas.push(g === 0 ? -lastCount : 0);
        if (gap > 0) lastCount = 0;
        spanLength += gap;
      }
    }
    deltas.push(count - lastCount);
    spanLength++;
    lastIndex = index;
    lastCount = count;
  };
  for (let k = 0; k < counts.length; k++) {
    const bucketCount = counts[k]!;
    if (bucketCount === 0) continue;
    const at = ((offset + k) >> scaleDown) + 1;
    if (count !== 0 && at === index) {
      count += bucketCount;
      continue;
    }
    flush();
    index = at;
    count = bucketCount;
  }
  flush();
  if (spanLength > 0) spans.push({ offset: spanOffset, length: spanLength });
  return { spans, deltas };
}
