import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ExponentialHistogram } from '@opentelemetry/sdk-metrics';
import { nativeBuckets, nativeHistogram, ZERO_THRESHOLD } from '../src/exposition/native-histogram.ts';

// Expected values below are worked out by hand: an OTel index i (bucket (base^i, base^(i+1)]) at a scale s above 8
// is bucket i >> (s - 8) at scale 8, and Prometheus' index of that bucket is one more.

function point(scale: number, positive: [number, number[]], negative: [number, number[]] = [0, []], zeroCount = 0): ExponentialHistogram {
  const count = zeroCount + [...positive[1], ...negative[1]].reduce((a, b) => a + b, 0);
  return {
    count,
    sum: 42,
    scale,
    zeroCount,
    positive: { offset: positive[0], bucketCounts: positive[1] },
    negative: { offset: negative[0], bucketCounts: negative[1] },
  };
}

test('consecutive buckets are one span; OTel index i is Prometheus index i + 1', () => {
  // OTel buckets 0, 1, 2 at scale 0: (1,2], (2,4], (4,8]; Prometheus indexes 1, 2, 3 cover the same.
  assert.deepEqual(nativeBuckets(0, [4, 3, 2], 0), { spans: [{ offset: 1, length: 3 }], deltas: [4, -1, -1] });
});

test('a gap of one or two empty buckets stays in the span as zeros; a longer gap starts a new span', () => {
  // Non-empty at Prometheus 1, 3, 7: the gap of one (2) is filled, the gap of three (4..6) is a new span.
  assert.deepEqual(nativeBuckets(0, [1, 0, 2, 0, 0, 0, 3], 0), {
    spans: [
      { offset: 1, length: 3 },
      { offset: 3, length: 1 },
    ],
    deltas: [1, -1, 2, 1],
  });
  // A gap of exactly two, at negative indexes: Prometheus -2 and 1.
  assert.deepEqual(nativeBuckets(-3, [4, 0, 0, 5], 0), { spans: [{ offset: -2, length: 4 }], deltas: [4, -4, 0, 5] });
  // Leading and trailing empty buckets are not written.
  assert.deepEqual(nativeBuckets(5, [0, 0, 7, 0, 0], 0), { spans: [{ offset: 8, length: 1 }], deltas: [7] });
});

test('downscaling merges 2^(scale - 8) buckets into one', () => {
  // Scale 9 -> 8: OTel -3, -2, -1, 0 -> -2, -1, -1, 0 at scale 8 -> Prometheus -1, 0, 0, 1.
  assert.deepEqual(nativeBuckets(-3, [1, 2, 3, 4], 1), { spans: [{ offset: -1, length: 3 }], deltas: [1, 4, -1] });
  // Scale 20 -> 8 (4096 buckets into one): OTel 4095 is (2^(4095/2^20), 2^(4096/2^20)], inside (1, 2^(1/256)],
  // Prometheus bucket 1 at schema 8; OTel 4096 starts bucket 2; OTel -1 (just below 1) is Prometheus bucket 0.
  const histogram = nativeHistogram(point(20, [-1, [5, ...new Array<number>(4095).fill(0), 1, 1]]));
  assert.equal(histogram?.schema, 8);
  assert.deepEqual(histogram?.positive, { spans: [{ offset: 0, length: 3 }], deltas: [5, -4, 0] });
  // 8192 consecutive OTel buckets starting at 0 are exactly Prometheus buckets 1 and 2.
  const wide = nativeHistogram(point(20, [0, new Array<number>(8192).fill(1)]));
  assert.deepEqual(wide?.positive, { spans: [{ offset: 1, length: 2 }], deltas: [4096, 0] });
});

test('negative buckets are mapped like positive ones, by absolute value', () => {
  // OTel negative bucket 2 at scale 0 holds |x| in (4, 8]: Prometheus negative bucket 3.
  const histogram = nativeHistogram(point(0, [0, [1]], [2, [3, 0, 0, 0, 2]], 4));
  assert.deepEqual(histogram, {
    schema: 0,
    zeroThreshold: ZERO_THRESHOLD,
    zeroCount: 4,
    count: 10,
    sum: 42,
    positive: { spans: [{ offset: 1, length: 1 }], deltas: [1] },
    negative: {
      spans: [
        { offset: 3, length: 1 },
        { offset: 3, length: 1 },
      ],
      deltas: [3, -1],
    },
  });
});

test('an empty histogram has no spans, a positive zero threshold and a zero count', () => {
  assert.deepEqual(nativeHistogram(point(20, [0, []])), {
    schema: 8,
    zeroThreshold: ZERO_THRESHOLD,
    zeroCount: 0,
    count: 0,
    sum: 42,
    positive: { spans: [], deltas: [] },
    negative: { spans: [], deltas: [] },
  });
  assert.equal(ZERO_THRESHOLD, 1e-128);
});

test('scales from -4 to 8 are schemas as they are; below -4 there is no native histogram', () => {
  assert.equal(nativeHistogram(point(-4, [0, [1]]))?.schema, -4);
  assert.equal(nativeHistogram(point(3, [0, [1]]))?.schema, 3);
  assert.equal(nativeHistogram(point(8, [0, [1]]))?.schema, 8);
  assert.equal(nativeHistogram(point(-5, [0, [1]])), undefined);
});
