import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { ValueType } from '@opentelemetry/api';
import { emptyResource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  AggregationType,
  DataPointType,
  type ExponentialHistogram,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { downscaled, explicitBuckets } from '../src/exposition/exponential-buckets.ts';
import { PrometheusText } from '../src/exposition/prometheus-text.ts';
import { requireTool } from './support/tools.ts';

function point(
  scale: number,
  zeroCount: number,
  positive: [number, number[]],
  negative: [number, number[]] = [0, []],
): ExponentialHistogram {
  const counts = [...positive[1], ...negative[1]];
  return {
    count: zeroCount + counts.reduce((a, b) => a + b, 0),
    sum: 12.5,
    scale,
    zeroCount,
    positive: { offset: positive[0], bucketCounts: positive[1] },
    negative: { offset: negative[0], bucketCounts: negative[1] },
  };
}

describe('exponential buckets as explicit ones (hand-computed)', () => {
  test('scale 0: negative, zero and positive buckets in order; a negative edge counts the values below it', () => {
    // Base 2. Positive buckets 0..3: (1,2] 1, (2,4] 2, (4,8] 0, (8,16] 3. Negative buckets 1..2: [-4,-2) 4, [-8,-4) 5.
    const { buckets, count, sum } = explicitBuckets(point(0, 2, [0, [1, 2, 0, 3]], [1, [4, 5]]));
    // The largest doubles below -4 and -2: -4 itself lies in [-4,-2), so `le="-4"` would be one bucket too early.
    assert.deepEqual(buckets.boundaries, [-4.000000000000001, -2.0000000000000004, 0, 2, 4, 8, 16]);
    assert.deepEqual(buckets.counts, [5, 4, 2, 1, 2, 0, 3, 0]);
    assert.equal(count, 17);
    assert.equal(sum, 12.5);
  });

  test('scale 1: boundaries at powers of √2', () => {
    // Buckets -2 and -1: (2^-1, 2^-0.5] and (2^-0.5, 1].
    const { buckets } = explicitBuckets(point(1, 0, [-2, [1, 1]]));
    assert.deepEqual(buckets.boundaries, [0, Math.SQRT1_2, 1]);
    assert.deepEqual(buckets.counts, [0, 1, 1, 0]);
  });

  test('scale -1: base 4', () => {
    const { buckets } = explicitBuckets(point(-1, 0, [1, [7]]));
    assert.deepEqual(buckets.boundaries, [0, 16]);
    assert.deepEqual(buckets.counts, [0, 7, 0]);
  });

  test('nothing recorded: only the zero bucket and +Inf', () => {
    const { buckets, count } = explicitBuckets(point(20, 0, [0, []]));
    assert.deepEqual(buckets.boundaries, [0]);
    assert.deepEqual(buckets.counts, [0, 0]);
    assert.equal(count, 0);
  });

  test('a bucket whose upper edge overflows the double range is counted in +Inf, not written as a second +Inf', () => {
    // (2^1023, 2^1024]: 2^1024 is Infinity.
    const { buckets } = explicitBuckets(point(0, 0, [1022, [1, 1]]));
    assert.deepEqual(buckets.boundaries, [0, 2 ** 1023]);
    assert.deepEqual(buckets.counts, [0, 1, 1]);
  });
});

test('downscaling merges buckets by perfect subsetting (index → floor(index / 2^change))', () => {
  const fine = point(2, 1, [3, [1, 2, 3, 4, 5]], [-5, [1, 1, 1, 1, 1, 1]]);
  const coarse = downscaled(fine, 0);
  assert.equal(coarse.scale, 0);
  // Positive 3 → 0; 4..7 → 1. Negative -5 → -2; -4..-1 → -1; 0 → 0.
  assert.deepEqual(coarse.positive, { offset: 0, bucketCounts: [1, 14] });
  assert.deepEqual(coarse.negative, { offset: -2, bucketCounts: [1, 4, 1] });
  assert.equal(coarse.zeroCount, 1);
  assert.equal(coarse.count, fine.count);
  assert.equal(downscaled(fine, 5), fine, 'a coarser point is left alone');
});

class Reader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** What the real SDK records for `values` in an exponential histogram of `maxSize` buckets per range. */
async function recorded(values: readonly number[], maxSize: number): Promise<ExponentialHistogram> {
  const reader = new Reader({
    aggregationSelector: () => ({ type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize } }),
    aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE,
  });
  const provider = new MeterProvider({ readers: [reader] });
  const histogram = provider.getMeter('t').createHistogram('h');
  for (const v of values) histogram.record(v);
  const { resourceMetrics } = await reader.collect();
  const metric = resourceMetrics.scopeMetrics[0]!.metrics[0]!;
  assert.equal(metric.dataPointType, DataPointType.EXPONENTIAL_HISTOGRAM);
  await provider.shutdown();
  return metric.dataPoints[0]!.value as ExponentialHistogram;
}

// The SDK's histograms drop negative values (the hand-computed cases above cover negative buckets).
const VALUES = [0, 0, 0.3, 1, 2, 3, 4, 5, 7.5, 8, 100, 1e6, 0.001, 2 ** -20, 2 ** 40];

test('against the real SDK: every le counts exactly the recorded values ≤ le (powers of two at bucket edges included)', async () => {
  for (const maxSize of [2, 4, 16, 160]) {
    const histogram = await recorded(VALUES, maxSize);
    const { buckets, count } = explicitBuckets(histogram);
    assert.equal(count, VALUES.length);
    let cumulative = 0;
    buckets.boundaries.forEach((le, i) => {
      cumulative += buckets.counts[i]!;
      assert.equal(cumulative, VALUES.filter((v) => v <= le).length, `maxSize ${maxSize} (scale ${histogram.scale}), le ${le}`);
    });
    assert.equal(cumulative + buckets.counts.at(-1)!, VALUES.length, '+Inf holds the rest');
  }
});

test('against the real SDK: downscaling a fine point gives what the SDK holds once it had to lower its scale', async () => {
  const fine = await recorded(VALUES, 160);
  const coarse = await recorded(VALUES, 4);
  assert.ok(coarse.scale < fine.scale, `${coarse.scale} < ${fine.scale}`);
  const merged = downscaled(fine, coarse.scale);
  // The SDK may keep empty buckets at the ends of a range; compare the populated buckets by index.
  const byIndex = (range: ExponentialHistogram['positive']) =>
    Object.fromEntries(range.bucketCounts.flatMap((c, j) => (c === 0 ? [] : [[range.offset + j, c]])));
  assert.deepEqual(byIndex(merged.positive), byIndex(coarse.positive));
  assert.deepEqual(byIndex(merged.negative), byIndex(coarse.negative));
  assert.equal(merged.zeroCount, coarse.zeroCount);
});

test('the text writer writes an exponential histogram as a classic histogram, never as an empty untyped family', async (t) => {
  const value = await recorded([0, 1, 3, 100], 160);
  const data: ResourceMetrics = {
    resource: emptyResource(),
    scopeMetrics: [
      {
        scope: { name: 's' },
        metrics: [
          {
            descriptor: { name: 'latency', description: 'Known observations', unit: 's', valueType: ValueType.DOUBLE },
            aggregationTemporality: AggregationTemporality.CUMULATIVE,
            dataPointType: DataPointType.EXPONENTIAL_HISTOGRAM,
            dataPoints: [{ startTime: [0, 0], endTime: [1, 0], attributes: { k: 'v' }, value: downscaled(value, 0) }],
          },
        ],
      },
    ],
  };
  const body = new PrometheusText({ scopeLabels: false, targetInfo: false }).serialize(data).toString();
  assert.match(body, /^# TYPE latency_seconds histogram$/m);
  const lines = body.split('\n').filter((l) => l.startsWith('latency_seconds'));
  assert.deepEqual(lines, [
    'latency_seconds_count{k="v"} 4',
    'latency_seconds_sum{k="v"} 104',
    'latency_seconds_bucket{k="v",le="0"} 1',
    'latency_seconds_bucket{k="v",le="1"} 2',
    'latency_seconds_bucket{k="v",le="2"} 2',
    'latency_seconds_bucket{k="v",le="4"} 3',
    'latency_seconds_bucket{k="v",le="8"} 3',
    'latency_seconds_bucket{k="v",le="16"} 3',
    'latency_seconds_bucket{k="v",le="32"} 3',
    'latency_seconds_bucket{k="v",le="64"} 3',
    'latency_seconds_bucket{k="v",le="128"} 4',
    'latency_seconds_bucket{k="v",le="+Inf"} 4',
  ]);
  const promtool = requireTool(t, 'promtool', 'apt-get install prometheus');
  if (!promtool) return;
  const lint = spawnSync(promtool, ['check', 'metrics'], { input: body, encoding: 'utf8' });
  assert.equal(lint.status, 0, `promtool: ${lint.stdout}${lint.stderr}\n${body}`);
});
