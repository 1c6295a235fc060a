import type { ExponentialHistogram, Histogram } from '@opentelemetry/sdk-metrics';

/**
 * OpenTelemetry exponential histograms (metrics data model, "ExponentialHistogram") as the explicit buckets text
 * formats can carry. The compatibility spec lets an exporter drop them or convert them to fixed buckets where
 * native histograms cannot be written; this is the conversion, so no exponential histogram is lost in text.
 *
 * At scale s the base is 2^(2^-s). Positive bucket i holds the values in (base^i, base^(i+1)]; negative bucket i
 * the values in [-base^(i+1), -base^i) (mapped by absolute value, so lower-inclusive); the zero bucket the
 * values equal to 0 (the SDK's zero threshold is 0).
 */

/** The lower boundary base^index of bucket `index` at `scale`: exact where the exponent is a whole number. */
function lowerBoundary(index: number, scale: number): number {
  return 2 ** (index * 2 ** -scale);
}

/** The largest double below `x`: `le` of it counts exactly the values below x. */
function below(x: number): number {
  if (x === 0) return -Number.MIN_VALUE;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  // For negative x, a larger magnitude (bits + 1) is the next double down; for positive x, bits - 1.
  view.setBigUint64(0, x < 0 ? bits + 1n : bits - 1n);
  return view.getFloat64(0);
}

/**
 * The point as explicit buckets (the writer's input for `_bucket` lines): `boundaries` are the `le` values, in
 * increasing order, and `counts` the observations in each bucket, the last one up to +Inf. Every boundary is
 * exact:
 * - a negative bucket ends just below -base^i (`below`), because -base^i itself belongs to the next bucket up;
 * - `le="0"` ends the zero bucket (all negative values and the zeros), written even when both are empty, so
 *   the layout of a series only changes when the populated range or the scale does;
 * - a positive bucket ends at base^(i+1), which it includes.
 * Only the populated range of buckets (what the SDK keeps: at most maxSize per sign) is written. Boundaries that
 * overflow to ±Infinity or collapse into their neighbour at the extremes of the double range are merged into the
 * next bucket rather than written twice.
 */
export function explicitBuckets(histogram: ExponentialHistogram): Histogram {
  const { scale, negative, positive } = histogram;
  const boundaries: number[] = [];
  const counts: number[] = [];
  let pending = 0;
  const close = (upper: number) => {
    if (Number.isFinite(upper) && (boundaries.length === 0 || upper > boundaries[boundaries.length - 1]!)) {
      boundaries.push(upper);
      counts.push(pending);
      pending = 0;
    }
  };
  // Negative buckets, from the most negative (the highest index) to the one nearest zero.
  for (let j = negative.bucketCounts.length - 1; j >= 0; j--) {
    pending += negative.bucketCounts[j]!;
    close(below(-lowerBoundary(negative.offset + j, scale)));
  }
  pending += histogram.zeroCount;
  close(0);
  for (let j = 0; j < positive.bucketCounts.length; j++) {
    pending += positive.bucketCounts[j]!;
    close(lowerBoundary(positive.offset + j + 1, scale));
  }
  counts.push(pending);
  return {
    buckets: { boundaries, counts },
    count: histogram.count,
    sum: histogram.sum,
    min: histogram.min,
    max: histogram.max,
  };
}

/**
 * The point at `scale`, when it is finer: buckets merged by perfect subsetting (data model, "Exponential Scale":
 * bucket i at scale s lies in bucket floor(i / 2^(s - scale)) at the coarser scale), so the result is exactly what
 * the SDK would have recorded had it started at that scale. The JavaScript SDK has no maxScale option (it starts
 * at 20); this is how a configured maxScale is honoured.
 */
export function downscaled(histogram: ExponentialHistogram, scale: number): ExponentialHistogram {
  if (histogram.scale <= scale) return histogram;
  const factor = 2 ** (histogram.scale - scale);
  const merge = ({ offset, bucketCounts }: ExponentialHistogram['positive']) => {
    if (bucketCounts.length === 0) return { offset: Math.floor(offset / factor), bucketCounts: [] };
    const first = Math.floor(offset / factor);
    const merged = new Array<number>(Math.floor((offset + bucketCounts.length - 1) / factor) - first + 1).fill(0);
    for (let j = 0; j < bucketCounts.length; j++) merged[Math.floor((offset + j) / factor) - first]! += bucketCounts[j]!;
    return { offset: first, bucketCounts: merged };
  };
  return { ...histogram, scale, positive: merge(histogram.positive), negative: merge(histogram.negative) };
}
