import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Attributes, ValueType } from '@opentelemetry/api';
import { emptyResource } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { PrometheusText } from '../src/exposition/prometheus-text.ts';

// The `_created` line of a counter point reuses the label bytes of its value line and the start time's text of the
// point before it: these pin what must come out whatever is reused (start times that change from point to point,
// no labels, scope labels, a label text that makes the buffer grow between the two lines, frozen sets kept across
// expositions).
const T0: [number, number] = [1_700_000_000, 250_000_000];
const T1: [number, number] = [1_700_000_060, 0];

function counter(points: [Attributes, [number, number], number][]): ResourceMetrics {
  const metric: MetricData = {
    descriptor: { name: 'jobs', description: '', unit: '', valueType: ValueType.INT },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: true,
    dataPoints: points.map(([attributes, startTime, value]) => ({ startTime, endTime: T1, attributes, value })),
  };
  return { resource: emptyResource(), scopeMetrics: [{ scope: { name: 's', version: '1' }, metrics: [metric] }] };
}

const write = (resourceMetrics: ResourceMetrics, scopeLabels = false) =>
  new PrometheusText({ scopeLabels, targetInfo: false }, { protocol: 'OpenMetricsText1.0.0', escaping: 'underscores' })
    .serialize(resourceMetrics)
    .toString();

test('each point gets its own start time and labels on its _created line, with and without labels', () => {
  const body = write(
    counter([
      [{ q: 'a' }, T0, 1],
      [{}, T1, 2],
      [{ q: 'b' }, T1, 3],
      [{ q: 'é"\n' }, T0, 4],
    ]),
  );
  assert.equal(
    body,
    [
      '# TYPE jobs counter',
      'jobs_total{q="a"} 1',
      'jobs_created{q="a"} 1700000000.25',
      'jobs_total 2',
      'jobs_created 1700000060',
      'jobs_total{q="b"} 3',
      'jobs_created{q="b"} 1700000060',
      'jobs_total{q="é\\"\\n"} 4',
      'jobs_created{q="é\\"\\n"} 1700000000.25',
      '# EOF',
      '',
    ].join('\n'),
  );
});

test('scope labels follow the point labels on both lines, and alone on a point without labels', () => {
  const body = write(
    counter([
      [{ q: 'a' }, T0, 1],
      [{}, T0, 2],
    ]),
    true,
  );
  assert.match(
    body,
    /^jobs_total\{q="a",otel_scope_name="s",otel_scope_version="1"\} 1\njobs_created\{q="a",otel_scope_name="s",otel_scope_version="1"\} 1700000000\.25$/m,
  );
  assert.match(
    body,
    /^jobs_total\{otel_scope_name="s",otel_scope_version="1"\} 2\njobs_created\{otel_scope_name="s",otel_scope_version="1"\} 1700000000\.25$/m,
  );
});

test('a label text longer than the first buffer, and frozen sets kept from one exposition to the next', () => {
  const long = 'x'.repeat(40_000);
  const points: [Attributes, [number, number], number][] = [
    [Object.freeze({ q: 'a' }), T0, 1],
    [Object.freeze({ q: long }), T0, 2],
    [Object.freeze({ q: 'c' }), T1, 3],
  ];
  const writer = new PrometheusText(
    { scopeLabels: false, targetInfo: false },
    { protocol: 'OpenMetricsText1.0.0', escaping: 'underscores' },
  );
  const expected = [
    '# TYPE jobs counter',
    'jobs_total{q="a"} 1',
    'jobs_created{q="a"} 1700000000.25',
    `jobs_total{q="${long}"} 2`,
    `jobs_created{q="${long}"} 1700000000.25`,
    'jobs_total{q="c"} 3',
    'jobs_created{q="c"} 1700000060',
    '# EOF',
    '',
  ].join('\n');
  assert.equal(writer.serialize(counter(points)).toString(), expected);
  assert.equal(writer.serialize(counter(points)).toString(), expected);
});
