import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyResource } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import fc from 'fast-check';
import { PrometheusProtobuf } from '../src/exposition/protobuf-writer.ts';
import { decodeFamilies } from './support/protobuf-exposition.ts';

// Property: whatever names, attributes and values reach the writer, the body decodes with the official
// metrics.proto into families Prometheus accepts: valid, distinct metric names; valid label names, distinct within a
// series (`le` never on a histogram); no family without series; native spans as long as their deltas, and no
// bucket count below zero.

const hostile = fc.oneof(
  fc.constantFrom('', 'le', 'a.b', 'a_b', '0abc', '_', '__', '"', '\\', '\n', 'ü', '📈', '\ud800', '\u0000', 'target_info', 'h_count'),
  fc.string({ unit: fc.constantFrom('a', 'b', '_', '.', '-', '0', 'é', ' '), maxLength: 6 }),
);
const attributes = fc.dictionary(hostile, fc.oneof(hostile, fc.integer(), fc.boolean()), { maxKeys: 4 });
const number = fc.oneof(fc.double(), fc.constantFrom(0, -0, 1e308, 5e-324, 2 ** 53 + 1));
const time = fc.tuple(fc.nat({ max: 2 ** 32 }), fc.nat({ max: 999_999_999 }));
const counts = fc.array(fc.nat({ max: 1000 }), { maxLength: 20 });

const point = <V>(value: fc.Arbitrary<V>) => fc.record({ startTime: time, endTime: time, attributes, value });
const metric: fc.Arbitrary<MetricData> = fc
  .oneof(
    fc.record({ type: fc.constant(DataPointType.GAUGE), points: fc.array(point(number), { maxLength: 3 }) }),
    fc.record({ type: fc.constant(DataPointType.SUM), monotonic: fc.boolean(), points: fc.array(point(number), { maxLength: 3 }) }),
    fc.record({
      type: fc.constant(DataPointType.HISTOGRAM),
      points: fc.array(
        point(
          counts.map((c) => ({
            count: c.reduce((a, b) => a + b, 0),
            sum: c.length,
            buckets: { boundaries: c.slice(1).map((_, i) => i * 1.5), counts: c },
          })),
        ),
        { maxLength: 2 },
      ),
    }),
    fc.record({
      type: fc.constant(DataPointType.EXPONENTIAL_HISTOGRAM),
      points: fc.array(
        point(
          fc
            .record({
              scale: fc.integer({ min: -10, max: 20 }),
              zeroCount: fc.nat(5),
              p: counts,
              po: fc.integer({ min: -2000, max: 2000 }),
              n: counts,
            })
            .map(({ scale, zeroCount, p, po, n }) => ({
              count: zeroCount + [...p, ...n].reduce((a, b) => a + b, 0),
              sum: 1,
              scale,
              zeroCount,
              positive: { offset: po, bucketCounts: p },
              negative: { offset: -po, bucketCounts: n },
            })),
        ),
        { maxLength: 2 },
      ),
    }),
  )
  .chain((drawn) =>
    fc.record({ name: hostile, description: hostile, unit: hostile }).map(
      ({ name, description, unit }) =>
        ({
          descriptor: { name, description, unit, valueType: 1 },
          aggregationTemporality: AggregationTemporality.CUMULATIVE,
          dataPointType: drawn.type,
          isMonotonic: 'monotonic' in drawn ? drawn.monotonic : undefined,
          dataPoints: drawn.points,
        }) as MetricData,
    ),
  );

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

test('any collection is written as valid MetricFamily messages', () => {
  fc.assert(
    fc.property(fc.array(fc.array(metric, { maxLength: 4 }), { minLength: 1, maxLength: 3 }), fc.boolean(), (scopes, scopeLabels) => {
      const collection: ResourceMetrics = {
        resource: emptyResource(),
        scopeMetrics: scopes.map((metrics, i) => ({ scope: { name: `scope${i}` }, metrics })),
      };
      const families = decodeFamilies(new PrometheusProtobuf({ scopeLabels, targetInfo: true }).serialize(collection));
      const names = families.map((f) => f.name!);
      assert.equal(new Set(names).size, names.length, `distinct families: ${names.join(', ')}`);
      for (const family of families) {
        assert.match(family.name!, METRIC_NAME);
        assert.ok(family.metric && family.metric.length > 0, `family ${family.name} has series`);
        for (const series of family.metric) {
          const labels = (series.label ?? []).map((l) => l.name!);
          for (const label of labels) assert.match(label, LABEL_NAME);
          assert.equal(new Set(labels).size, labels.length, `distinct labels: ${labels.join(', ')}`);
          const histogram = series.histogram;
          if (family.type === 'HISTOGRAM') {
            assert.ok(histogram, 'a histogram family has histograms');
            assert.ok(!labels.includes('le'));
          }
          if (histogram?.schema === undefined) continue;
          assert.ok(histogram.schema >= -4 && histogram.schema <= 8, `schema ${histogram.schema}`);
          for (const side of ['positive', 'negative'] as const) {
            const spans: { length?: number }[] = histogram[`${side}Span`] ?? [];
            const deltas: number[] = histogram[`${side}Delta`] ?? [];
            assert.equal(
              spans.reduce((n, s) => n + (s.length ?? 0), 0),
              deltas.length,
            );
            let count = 0;
            for (const delta of deltas) {
              count += delta;
              assert.ok(count >= 0, `bucket counts are never negative: ${deltas}`);
            }
          }
        }
      }
    }),
    { numRuns: 300 },
  );
});
