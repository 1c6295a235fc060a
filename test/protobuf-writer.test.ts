import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type DiagLogger, DiagLogLevel, diag } from '@opentelemetry/api';
import { emptyResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  AggregationType,
  DataPointType,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
  type ViewOptions,
} from '@opentelemetry/sdk-metrics';
import { PrometheusProtobuf } from '../src/exposition/protobuf-writer.ts';
import { type DecodedFamily, decodeFamilies } from './support/protobuf-exposition.ts';

class OnDemandReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** A real SDK MeterProvider with `views`, fed by `record`, collected once. */
async function collect(
  record: (meter: ReturnType<MeterProvider['getMeter']>) => void,
  views: ViewOptions[] = [],
  resource = emptyResource(),
): Promise<ResourceMetrics> {
  const reader = new OnDemandReader();
  const provider = new MeterProvider({ resource, readers: [reader], views });
  record(provider.getMeter('test-scope', '1.2.3'));
  const { resourceMetrics, errors } = await reader.collect();
  assert.deepEqual(errors, []);
  await provider.shutdown();
  return resourceMetrics;
}

function family(families: DecodedFamily[], name: string): DecodedFamily {
  const found = families.find((f) => f.name === name);
  assert.ok(found, `family ${name} in ${families.map((f) => f.name).join(', ')}`);
  return found;
}

const EXPONENTIAL: ViewOptions['aggregation'] = { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 160 } };
const NO_TARGET_INFO = { scopeLabels: false, targetInfo: false };

test('counters, gauges and classic histograms decode with the official metrics.proto into the families of the text writer', async () => {
  const metrics = await collect((meter) => {
    meter.createCounter('requests', { description: 'Requests served' }).add(3, { path: '/a' });
    meter.createUpDownCounter('queue').add(-2);
    meter.createGauge('temperature', { unit: 'celsius' }).record(21.5, { room: 'a', 'room.b': 'x', '1st': 'y' });
    meter.createGauge('water_celsius', { unit: 'celsius' }).record(12);
    const latency = meter.createHistogram('latency', { advice: { explicitBucketBoundaries: [1, 5] } });
    for (const value of [0.5, 3, 7]) latency.record(value, { le: 'mine' });
  });
  const families = decodeFamilies(new PrometheusProtobuf(NO_TARGET_INFO).serialize(metrics));
  assert.deepEqual(
    families.map((f) => [f.name, f.type]),
    [
      ['requests_total', 'COUNTER'],
      ['queue', 'GAUGE'],
      ['temperature_celsius', 'GAUGE'],
      ['water_celsius', 'GAUGE'],
      ['latency', 'HISTOGRAM'],
    ],
  );
  const [requests] = family(families, 'requests_total').metric!;
  const counterPoint = metrics.scopeMetrics[0]!.metrics[0]!.dataPoints[0]!;
  assert.deepEqual(requests, {
    label: [{ name: 'path', value: '/a' }],
    counter: { value: 3, createdTimestamp: { seconds: counterPoint.startTime[0], nanos: counterPoint.startTime[1] } },
  });
  assert.equal(family(families, 'requests_total').help, 'Requests served');
  // No HELP: the text writer's stand-in. The default strategy adds the unit to a name that lacks it.
  assert.equal(family(families, 'queue').help, 'description missing');
  assert.equal(family(families, 'temperature_celsius').unit, 'celsius');
  assert.equal(family(families, 'water_celsius').unit, 'celsius');
  assert.deepEqual(family(families, 'queue').metric, [{ gauge: { value: -2 } }]);
  assert.deepEqual(family(families, 'temperature_celsius').metric, [
    {
      label: [
        { name: 'room', value: 'a' },
        { name: 'room_b', value: 'x' },
        { name: 'key_1st', value: 'y' },
      ],
      gauge: { value: 21.5 },
    },
  ]);
  const [latency] = family(families, 'latency').metric!;
  // `le` is Prometheus' label on classic buckets: an attribute of that name is kept as exported_le, as in text.
  assert.deepEqual(latency?.label, [{ name: 'exported_le', value: 'mine' }]);
  assert.equal(latency?.histogram?.sampleCount, 3);
  assert.equal(latency?.histogram?.sampleSum, 10.5);
  assert.deepEqual(latency?.histogram?.bucket, [
    { cumulativeCount: 1, upperBound: 1 },
    { cumulativeCount: 2, upperBound: 5 },
    { cumulativeCount: 3, upperBound: Infinity },
  ]);
  assert.ok(latency?.histogram?.createdTimestamp?.seconds, 'created timestamp');
  assert.equal(latency?.histogram?.schema, undefined, 'a classic histogram has no native part');
  assert.equal(latency?.histogram?.zeroThreshold, undefined);
});

test('an exponential histogram is a native histogram with hand-computed spans and deltas', async () => {
  const metrics = await collect(
    (meter) => {
      const sizes = meter.createHistogram('sizes');
      for (const value of [0, 1, 2, 4]) sizes.record(value);
    },
    [{ instrumentName: 'sizes', aggregation: EXPONENTIAL }],
  );
  const sizesPoint = metrics.scopeMetrics[0]!.metrics[0]!.dataPoints[0]!;
  // The SDK starts at scale 20 and halves it until 1..4 fits 160 buckets: scale 6 (OTel -1..127, 129 buckets).
  // Powers of two are upper bounds: 1, 2, 4 are OTel buckets -1, 63, 127, Prometheus 0, 64, 128 (gaps of 63).
  const families = decodeFamilies(new PrometheusProtobuf(NO_TARGET_INFO).serialize(metrics));
  assert.deepEqual(family(families, 'sizes').metric, [
    {
      histogram: {
        sampleCount: 4,
        sampleSum: 7,
        createdTimestamp: { seconds: sizesPoint.startTime[0], nanos: sizesPoint.startTime[1] },
        schema: 6,
        zeroThreshold: 1e-128,
        zeroCount: 1,
        positiveSpan: [
          { offset: 0, length: 1 },
          { offset: 63, length: 1 },
          { offset: 63, length: 1 },
        ],
        positiveDelta: [1, 0, 0],
      },
    },
  ]);
});

test('classic and exponential histograms of one name and labels (two sources): one series with both bucket kinds', async () => {
  // One SDK meter cannot hold both (a second view of the same name is a conflict it drops); two scopes can.
  const reader = new OnDemandReader();
  const provider = new MeterProvider({
    resource: emptyResource(),
    readers: [reader],
    views: [
      {
        meterName: 'classic',
        instrumentName: 'dual',
        aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: [2] } },
      },
      { meterName: 'exponential', instrumentName: 'dual', aggregation: EXPONENTIAL },
    ],
  });
  for (const scope of ['classic', 'exponential']) {
    const dual = provider.getMeter(scope).createHistogram('dual');
    dual.record(1, { host: 'a' });
    dual.record(3, { host: 'a' });
    if (scope === 'classic') dual.record(3, { host: 'b' });
  }
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  assert.deepEqual(
    resourceMetrics.scopeMetrics.map((s) => s.metrics[0]!.dataPointType),
    [DataPointType.HISTOGRAM, DataPointType.EXPONENTIAL_HISTOGRAM],
  );
  const [dual] = decodeFamilies(new PrometheusProtobuf(NO_TARGET_INFO).serialize(resourceMetrics));
  assert.deepEqual(
    dual?.metric?.map((m) => m.label),
    [[{ name: 'host', value: 'a' }], [{ name: 'host', value: 'b' }]],
  );
  const a = dual.metric![0]!.histogram!;
  assert.deepEqual(a.bucket, [
    { cumulativeCount: 1, upperBound: 2 },
    { cumulativeCount: 2, upperBound: Infinity },
  ]);
  assert.equal(a.sampleCount, 2);
  assert.equal(a.sampleSum, 4);
  // 1 and 3 fit 160 buckets at scale 6: 1 -> OTel -1 -> Prometheus 0; 3 -> OTel floor(log2(3) * 64) = 101 -> 102.
  assert.equal(a.schema, 6);
  assert.deepEqual(a.positiveSpan, [
    { offset: 0, length: 1 },
    { offset: 101, length: 1 },
  ]);
  assert.deepEqual(a.positiveDelta, [1, 0]);
  const b = dual.metric![1]!.histogram!;
  assert.equal(b.schema, undefined, 'host b has classic buckets only');
  assert.equal(b.bucket?.length, 2);
});

test('target_info carries the resource; scope labels when asked for', async () => {
  const metrics = await collect(
    (meter) => meter.createCounter('hits_total').add(1),
    [],
    resourceFromAttributes({ 'service.name': 'svc', 'host.id': 7 }),
  );
  const families = decodeFamilies(new PrometheusProtobuf({ scopeLabels: true, targetInfo: true }).serialize(metrics));
  assert.deepEqual(
    families.map((f) => f.name),
    ['target_info', 'hits_total'],
  );
  assert.deepEqual(family(families, 'target_info'), {
    name: 'target_info',
    help: 'Target metadata',
    type: 'GAUGE',
    metric: [
      {
        label: [
          { name: 'service_name', value: 'svc' },
          { name: 'host_id', value: '7' },
        ],
        gauge: { value: 1 },
      },
    ],
  });
  assert.deepEqual(family(families, 'hits_total').metric![0]!.label, [
    { name: 'otel_scope_name', value: 'test-scope' },
    { name: 'otel_scope_version', value: '1.2.3' },
  ]);
});

test('conflicting families are dropped as in text, with one warning per episode; a scale below -4 is not written', () => {
  const warnings: string[] = [];
  const logger: DiagLogger = { error() {}, warn: (m) => warnings.push(m), info() {}, debug() {}, verbose() {} };
  diag.setLogger(logger, DiagLogLevel.WARN);
  try {
    const time = [1_700_000_000, 5] as [number, number];
    const base = { aggregationTemporality: AggregationTemporality.CUMULATIVE };
    const descriptor = (name: string) => ({ name, description: '', unit: '', valueType: 1 });
    const points = (value: unknown) => [{ startTime: time, endTime: time, attributes: {}, value }];
    const metrics: ResourceMetrics = {
      resource: emptyResource(),
      scopeMetrics: [
        {
          scope: { name: 's' },
          metrics: [
            { ...base, descriptor: descriptor('clash'), dataPointType: DataPointType.GAUGE, dataPoints: points(1) },
            { ...base, descriptor: descriptor('clash'), dataPointType: DataPointType.SUM, isMonotonic: false, dataPoints: points(2) },
            { ...base, descriptor: descriptor('clash_total'), dataPointType: DataPointType.SUM, isMonotonic: true, dataPoints: points(3) },
            {
              ...base,
              descriptor: descriptor('h'),
              dataPointType: DataPointType.HISTOGRAM,
              dataPoints: points({ count: 1, sum: 1, buckets: { boundaries: [], counts: [1] } }),
            },
            { ...base, descriptor: descriptor('h_count'), dataPointType: DataPointType.GAUGE, dataPoints: points(9) },
            { ...base, descriptor: descriptor('mixed'), dataPointType: DataPointType.GAUGE, dataPoints: points(4) },
            {
              ...base,
              descriptor: descriptor('signed'),
              dataPointType: DataPointType.EXPONENTIAL_HISTOGRAM,
              dataPoints: points({
                count: 10,
                sum: -20,
                scale: 3,
                zeroCount: 3,
                positive: { offset: -2, bucketCounts: [2] },
                negative: { offset: 5, bucketCounts: [1, 0, 0, 0, 4] },
              }),
            },
            {
              ...base,
              descriptor: descriptor('coarse'),
              dataPointType: DataPointType.EXPONENTIAL_HISTOGRAM,
              dataPoints: points({
                count: 1,
                sum: 5,
                scale: -5,
                zeroCount: 0,
                positive: { offset: 0, bucketCounts: [1] },
                negative: { offset: 0, bucketCounts: [] },
              }),
            },
          ],
        },
        {
          scope: { name: 'other' },
          metrics: [
            {
              ...base,
              descriptor: descriptor('mixed'),
              dataPointType: DataPointType.HISTOGRAM,
              dataPoints: points({ count: 1, sum: 1, buckets: { boundaries: [], counts: [1] } }),
            },
          ],
        },
      ],
    } as ResourceMetrics;
    const writer = new PrometheusProtobuf(NO_TARGET_INFO);
    const families = decodeFamilies(writer.serialize(metrics));
    // clash (gauge twice, one of them a non-monotonic sum) is one family; mixed has two types; h_count clashes
    // with histogram h; coarse has no native histogram and nothing else, so no family.
    assert.deepEqual(
      families.map((f) => [f.name, f.type, f.metric?.length]),
      [
        ['clash', 'GAUGE', 2],
        ['clash_total', 'COUNTER', 1],
        ['h', 'HISTOGRAM', 1],
        ['signed', 'HISTOGRAM', 1],
      ],
    );
    assert.equal(family(families, 'clash_total').metric![0]!.counter!.createdTimestamp?.nanos, 5);
    // Negative indexes and offsets (zigzag on the wire): OTel positive -2 is Prometheus -1; negative 5 and 9 are
    // Prometheus 6 and 10, three empty buckets apart: two spans.
    assert.deepEqual(family(families, 'signed').metric![0]!.histogram, {
      sampleCount: 10,
      sampleSum: -20,
      createdTimestamp: { seconds: 1_700_000_000, nanos: 5 },
      schema: 3,
      zeroThreshold: 1e-128,
      zeroCount: 3,
      negativeSpan: [
        { offset: 6, length: 1 },
        { offset: 3, length: 1 },
      ],
      negativeDelta: [1, 3],
      positiveSpan: [{ offset: -1, length: 1 }],
      positiveDelta: [2],
    });
    assert.equal(warnings.length, 3, warnings.join('\n'));
    assert.match(warnings[0]!, /Conflicting TYPE for metric "mixed": gauge, histogram; dropping the metric/);
    assert.match(warnings[1]!, /Conflicting TYPE for metric "h_count": histogram h, gauge; dropping the metric/);
    assert.match(warnings[2]!, /"coarse" has scale -5, below the smallest native histogram schema/);
    writer.serialize(metrics);
    assert.equal(warnings.length, 3, 'a lasting condition is reported once');
  } finally {
    diag.disable();
  }
});

test('messages longer than 127 bytes and bodies larger than the first buffer keep their lengths right', async () => {
  const long = 'é€'.repeat(100); // 500 UTF-8 bytes
  const boundaries = Array.from({ length: 50 }, (_, i) => i + 1);
  const metrics = await collect((meter) => {
    const gauge = meter.createGauge('wide');
    for (let i = 0; i < 1500; i++) gauge.record(i, { series: `${i}`, text: long });
    meter.createHistogram('fine', { advice: { explicitBucketBoundaries: boundaries } }).record(25.5, { text: long });
  });
  const body = new PrometheusProtobuf(NO_TARGET_INFO).serialize(metrics);
  assert.ok(body.length > 500_000, `${body.length} bytes`);
  const [wide, fine] = decodeFamilies(body);
  assert.equal(wide?.metric?.length, 1500);
  assert.deepEqual(wide.metric![1499], {
    label: [
      { name: 'series', value: '1499' },
      { name: 'text', value: long },
    ],
    gauge: { value: 1499 },
  });
  assert.equal(fine?.metric?.[0]?.histogram?.bucket?.length, 51);
  assert.deepEqual(fine.metric![0]!.histogram!.bucket![26], { cumulativeCount: 1, upperBound: 27 });
  assert.equal(fine.metric![0]!.label![0]!.value, long);
});

test('labels kept from the previous exposition follow the series when they move, change or go', () => {
  const time = [1_700_000_000, 0] as [number, number];
  const a = Object.freeze({ host: 'a' });
  const b = Object.freeze({ host: 'b' });
  const gauge = (...sets: Record<string, string>[]): ResourceMetrics => ({
    resource: emptyResource(),
    scopeMetrics: [
      {
        scope: { name: 's' },
        metrics: [
          {
            descriptor: { name: 'g', description: '', unit: '', valueType: 1 },
            aggregationTemporality: AggregationTemporality.CUMULATIVE,
            dataPointType: DataPointType.GAUGE,
            dataPoints: sets.map((attributes, i) => ({ startTime: time, endTime: time, attributes, value: i })),
          },
        ],
      },
    ],
  });
  const writer = new PrometheusProtobuf(NO_TARGET_INFO);
  const hosts = (metrics: ResourceMetrics) =>
    decodeFamilies(writer.serialize(metrics))[0]!.metric!.map((m) => `${m.label?.map((l) => l.value).join(',')}=${m.gauge?.value}`);
  assert.deepEqual(hosts(gauge(a, b)), ['a=0', 'b=1']);
  assert.deepEqual(hosts(gauge(b, a)), ['b=0', 'a=1']);
  // Not frozen: may change in place, so never reused by position.
  const loose = { host: 'c' };
  assert.deepEqual(hosts(gauge(loose, b)), ['c=0', 'b=1']);
  loose.host = 'd';
  assert.deepEqual(hosts(gauge(loose)), ['d=0']);
  assert.deepEqual(hosts(gauge(a, b)), ['a=0', 'b=1']);
});
