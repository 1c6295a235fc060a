import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { type Attributes, DiagLogLevel, diag, ValueType } from '@opentelemetry/api';
import { emptyResource, resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ExpositionFormat } from '../src/exposition/format.ts';
import type { TranslationStrategy } from '../src/exposition/metric-names.ts';
import { PrometheusText, type PrometheusTextOptions, type TextProtocol } from '../src/exposition/prometheus-text.ts';
import { type ParsedFamily, requireOpenMetricsParser } from './support/openmetrics-parser.ts';
import { requireTool } from './support/tools.ts';

// Start times with and without nanoseconds: `_created` carries them as seconds.
const T0: [number, number] = [1_700_000_000, 250_000_000];
const T1: [number, number] = [1_700_000_060, 0];
const OM: ExpositionFormat & { protocol: TextProtocol } = { protocol: 'OpenMetricsText1.0.0', escaping: 'underscores' };

function descriptor(name: string, description: string, unit: string, valueType = ValueType.DOUBLE) {
  return { name, description, unit, valueType };
}

function gauge(name: string, points: [Attributes, number][], description = '', unit = ''): MetricData {
  return {
    descriptor: descriptor(name, description, unit),
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.GAUGE,
    dataPoints: points.map(([attributes, value]) => ({ startTime: T1, endTime: T1, attributes, value })),
  };
}

function sum(name: string, monotonic: boolean, points: [Attributes, number][], description = '', unit = ''): MetricData {
  return {
    descriptor: descriptor(name, description, unit, ValueType.INT),
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: monotonic,
    dataPoints: points.map(([attributes, value]) => ({ startTime: T0, endTime: T1, attributes, value })),
  };
}

function histogram(name: string, attributes: Attributes, boundaries: number[], counts: number[], total: number, unit = ''): MetricData {
  const count = counts.reduce((a, b) => a + b, 0);
  return {
    descriptor: descriptor(name, 'Time taken', unit),
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.HISTOGRAM,
    dataPoints: [{ startTime: T0, endTime: T1, attributes, value: { buckets: { boundaries, counts }, count, sum: total } }],
  };
}

function collection(metrics: MetricData[], resource = emptyResource()): ResourceMetrics {
  return { resource, scopeMetrics: [{ scope: { name: 'orders', version: '1.0' }, metrics }] };
}

/** Every shape the exporter writes, with the awkward values of the format. */
function everything(): ResourceMetrics {
  const frozen = (attributes: Attributes) => Object.freeze(attributes);
  return collection(
    [
      gauge('queue_depth', [
        [frozen({ queue: 'in' }), 3],
        [frozen({}), -7.5],
      ]),
      sum(
        'orders',
        true,
        [[frozen({ shop: 'a"b', note: 'line\nbreak', path: 'C:\\temp\\x', city: 'Zürich 📈' }), 42]],
        'Orders "placed"\\ today\nand before',
      ),
      sum('refunds_total', true, [[frozen({ code: 200 }), 1]], 'Refunds'),
      sum('balance', false, [[frozen({ k: 'v' }), -3]], 'Up and down'),
      sum('transferred_bytes_total', true, [[frozen({}), 1e21]], 'Bytes', 'bytes'),
      gauge('special_values', [
        [frozen({ v: 'nan' }), NaN],
        [frozen({ v: 'inf' }), Infinity],
        [frozen({ v: 'minf' }), -Infinity],
        [frozen({ v: 'tiny' }), 1e-300],
      ]),
      gauge('temperature', [[frozen({}), 21]], 'Unit added to the name', 'celsius'),
      gauge('empty_metric', [], 'Nothing observed'),
      histogram('request_seconds', frozen({ route: '/x' }), [0.001, 0.1, 1, 10, 100000, 1e6], [1, 2, 3, 4, 0, 0, 1], 12.5, 'seconds'),
      histogram('bare_histogram', frozen({}), [], [4], 2),
      histogram('inf_histogram', frozen({ k: 'v' }), [1, Infinity], [2, 3, 0], 9),
      histogram('below_zero', frozen({}), [-1, 0, 1], [1, 1, 1, 0], -0.5),
    ],
    resourceFromAttributes({ 'service.name': 'shop "metrics"', 'host.id': 'a\\b\nc' }),
  );
}

function byName(families: ParsedFamily[]): Map<string, ParsedFamily> {
  return new Map(families.map((f) => [f.name, f]));
}

for (const scopeLabels of [false, true]) {
  test(`prometheus_client's strict OpenMetrics parser reads every shape (scope labels ${scopeLabels ? 'on' : 'off'})`, (t) => {
    const parse = requireOpenMetricsParser(t);
    if (!parse) return;
    const writer = new PrometheusText({ scopeLabels, targetInfo: true }, OM);
    const body = writer.serialize(everything()).toString();
    assert.equal(writer.serialize(everything()).toString(), body, 'the second exposition, from kept label text, is the same');
    const families = byName(parse(body));
    const scope = scopeLabels ? { otel_scope_name: 'orders', otel_scope_version: '1.0' } : {};

    assert.ok(body.endsWith('\n# EOF\n'), body);
    // target_info: the info family `target`, first.
    assert.equal(parse(body)[0]!.name, 'target');
    assert.deepEqual(families.get('target'), {
      name: 'target',
      type: 'info',
      help: 'Target metadata',
      unit: '',
      samples: [{ name: 'target_info', labels: { service_name: 'shop "metrics"', host_id: 'a\\b\nc' }, value: 1 }],
    });
    // Counters: named without _total, a _total and a _created sample; with or without _total in the instrument name.
    const orders = families.get('orders')!;
    assert.equal(orders.type, 'counter');
    assert.equal(orders.help, 'Orders "placed"\\ today\nand before');
    const labels = { shop: 'a"b', note: 'line\nbreak', path: 'C:\\temp\\x', city: 'Zürich 📈', ...scope };
    assert.deepEqual(orders.samples, [
      { name: 'orders_total', labels, value: 42 },
      { name: 'orders_created', labels, value: 1_700_000_000.25 },
    ]);
    assert.deepEqual(
      families.get('refunds')?.samples.map((s) => [s.name, s.value]),
      [
        ['refunds_total', 1],
        ['refunds_created', 1_700_000_000.25],
      ],
    );
    assert.equal(families.get('balance')?.type, 'gauge');
    assert.deepEqual(
      families.get('balance')?.samples.map((s) => s.value),
      [-3],
    );
    assert.equal(families.get('transferred_bytes')?.unit, 'bytes', 'the unit is the end of the family name');
    assert.equal(families.get('transferred_bytes')?.samples[0]?.value, 1e21);
    assert.equal(families.get('temperature_celsius')?.unit, 'celsius', 'the default strategy adds the unit to the name');
    assert.deepEqual(
      families.get('special_values')?.samples.map((s) => s.value),
      ['NaN', '+Inf', '-Inf', 1e-300],
    );
    assert.deepEqual(families.get('empty_metric'), {
      name: 'empty_metric',
      type: 'gauge',
      help: 'Nothing observed',
      unit: '',
      samples: [],
    });
    // Histograms: buckets, _count, _sum, _created, le in canonical form.
    const request = families.get('request_seconds')!;
    assert.equal(request.unit, 'seconds');
    assert.deepEqual(
      request.samples.map((s) => `${s.name}${s.labels.le === undefined ? '' : `[${s.labels.le}]`} ${s.value}`),
      [
        'request_seconds_bucket[0.001] 1',
        'request_seconds_bucket[0.1] 3',
        'request_seconds_bucket[1.0] 6',
        'request_seconds_bucket[10.0] 10',
        'request_seconds_bucket[100000.0] 10',
        'request_seconds_bucket[1e+06] 10',
        'request_seconds_bucket[+Inf] 11',
        'request_seconds_count 11',
        'request_seconds_sum 12.5',
        'request_seconds_created 1700000000.25',
      ],
    );
    assert.deepEqual(request.samples[0]!.labels, { route: '/x', ...scope, le: '0.001' });
    assert.deepEqual(
      families.get('bare_histogram')?.samples.map((s) => [s.name, s.labels.le, s.value]),
      [
        ['bare_histogram_bucket', '+Inf', 4],
        ['bare_histogram_count', undefined, 4],
        ['bare_histogram_sum', undefined, 2],
        ['bare_histogram_created', undefined, 1_700_000_000.25],
      ],
    );
    assert.deepEqual(
      families
        .get('inf_histogram')
        ?.samples.filter((s) => s.name.endsWith('_bucket'))
        .map((s) => s.labels.le),
      ['1.0', '+Inf'],
      'an explicit +Inf boundary is written once',
    );
    assert.deepEqual(
      families.get('below_zero')?.samples.map((s) => s.name),
      ['below_zero_bucket', 'below_zero_bucket', 'below_zero_bucket', 'below_zero_bucket', 'below_zero_created'],
      'no _sum (and so no _count) with negative buckets',
    );
    // Metadata order as the spec recommends: TYPE, UNIT, HELP.
    assert.match(body, /^# TYPE request_seconds histogram\n# UNIT request_seconds seconds\n# HELP request_seconds Time taken\n/m);
    assert.match(body, /^# TYPE orders counter\n# HELP orders Orders \\"placed\\"\\\\ today\\nand before\norders_total\{/m);
  });
}

test('OpenMetrics 0.0.1 gets the same body as 1.0.0 (client_golang writes one body for both)', () => {
  const data = everything();
  const one = new PrometheusText({ scopeLabels: false, targetInfo: true }, OM).serialize(data).toString();
  const old = new PrometheusText({ scopeLabels: false, targetInfo: true }, { protocol: 'OpenMetricsText0.0.1', escaping: 'underscores' });
  assert.equal(old.serialize(data).toString(), one);
});

test('an empty OpenMetrics exposition is just # EOF, which the parser accepts', (t) => {
  const parse = requireOpenMetricsParser(t);
  if (!parse) return;
  for (const targetInfo of [false, true]) {
    const body = new PrometheusText({ scopeLabels: false, targetInfo }, OM).serialize(collection([])).toString();
    assert.equal(body, targetInfo ? '# TYPE target info\n# HELP target Target metadata\ntarget_info 1\n# EOF\n' : '# EOF\n');
    assert.equal(parse(body).length, targetInfo ? 1 : 0);
  }
});

test('families whose names the OpenMetrics suffixes of another would clash with are dropped, with one warning each', (t) => {
  const parse = requireOpenMetricsParser(t);
  if (!parse) return;
  const data = collection([
    gauge('jobs', [[{}, 1]]), // the counter jobs_total is the OpenMetrics family `jobs`
    sum('jobs_total', true, [[{}, 2]]),
    gauge('lat_created', [[{}, 3]]), // histogram lat writes lat_created
    histogram('lat', {}, [1], [1, 0], 0.5),
    sum('runs_total', true, [[{}, 4]]),
    gauge('runs_created', [[{}, 5]]), // after the counter: dropped all the same
    gauge('target', [[{}, 6]]), // the info family target
    gauge('kept', [[{}, 7]]),
  ]);
  const warnings: string[] = [];
  diag.setLogger({ error() {}, info() {}, debug() {}, verbose() {}, warn: (message: string) => warnings.push(message) }, DiagLogLevel.WARN);
  try {
    const writer = new PrometheusText({ scopeLabels: false, targetInfo: true }, OM);
    const body = writer.serialize(data).toString();
    writer.serialize(data);
    const families = byName(parse(body));
    assert.deepEqual([...families.keys()], ['target', 'jobs', 'lat', 'runs', 'kept']);
    assert.equal(families.get('jobs')?.type, 'counter');
    assert.equal(families.get('target')?.type, 'info');
    assert.equal(warnings.length, 4, warnings.join('\n'));
    assert.match(warnings.join('\n'), /"target": "info target".*"jobs".*"lat_created".*"runs_created"/s);
  } finally {
    diag.disable();
  }
  // Text 0.0.4 keeps them all: those names only clash in OpenMetrics.
  const text = new PrometheusText({ scopeLabels: false, targetInfo: true }).serialize(data).toString();
  for (const line of ['jobs 1', 'lat_created 3', 'runs_created 5', 'target 6']) assert.match(text, new RegExp(`^${line}$`, 'm'));
});

test('property: the OpenMetrics parser accepts every exposition of random metrics, names and label values', async (t) => {
  const parse = requireOpenMetricsParser(t);
  if (!parse) return;
  const { default: fc } = await import('fast-check');
  const value = fc.oneof(fc.string({ unit: 'binary', maxLength: 8 }), fc.constantFrom('"', '\\', '\n', '\\n', 'a"b\\c\nd', ''));
  const key = fc.oneof(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }),
    fc.constantFrom('le', 'a.b', 'a_b', '0x', 'otel.scope.name'),
  );
  const attributes = fc.dictionary(key, value, { maxKeys: 3 });
  const metric = fc.record({
    kind: fc.constantFrom('gauge', 'counter', 'updowncounter', 'histogram'),
    name: fc.oneof(
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }),
      fc.constantFrom('x', 'x_total', 'x_created', 'x_count', 'target'),
    ),
    help: fc.string({ unit: 'binary', maxLength: 10 }),
    points: fc.array(fc.tuple(attributes, fc.double({ min: 0, noNaN: true })), { maxLength: 3 }),
  });
  // Each run spawns the parser: a bounded number of runs.
  fc.assert(
    fc.property(fc.array(metric, { maxLength: 6 }), fc.boolean(), fc.boolean(), (drawn, scopeLabels, utf8) => {
      let series = 0;
      const metrics = drawn.flatMap(({ kind, name, help, points }) => {
        // An attribute of its own per point: a duplicate series is no valid input in any format.
        const unique = points.map(([a, v]): [Attributes, number] => [{ ...a, series: `${series++}` }, v]);
        if (kind === 'gauge') return [gauge(name, unique, help)];
        if (kind === 'histogram') return unique.length === 0 ? [] : [histogram(name, unique[0]![0], [0.5, 1], [1, 2, 3], 2)];
        return [sum(name, kind === 'counter', unique, help)];
      });
      const options: PrometheusTextOptions = {
        scopeLabels,
        targetInfo: true,
        translationStrategy: utf8 ? 'NoUTF8EscapingWithSuffixes' : 'UnderscoreEscapingWithSuffixes',
      };
      const body = new PrometheusText(options, OM).serialize(collection(metrics)).toString();
      parse(body);
    }),
    { numRuns: 25 },
  );
});

test('promtool check metrics accepts text 0.0.4 and text 1.0.0 (escaping=underscores) bodies', (t) => {
  const promtool = requireTool(t, 'promtool', 'apt-get install prometheus');
  if (!promtool) return;
  const data = collection(
    [
      gauge('queue_depth', [[{ 'queue.name': 'in "q"\\\n' }, 3]], 'Jobs waiting'),
      sum('http.server.requests', true, [[{ 'http.method': 'GET', code: 200 }, 42]], 'Requests'),
      histogram('http.server.duration', { route: '/x' }, [0.1, 0.5, 1], [1, 2, 3, 4], 1.25, 'seconds'),
    ],
    resourceFromAttributes({ 'service.name': 'x' }),
  );
  const formats: (ExpositionFormat & { protocol: TextProtocol })[] = [
    { protocol: 'PrometheusText0.0.4', escaping: 'underscores' },
    { protocol: 'PrometheusText1.0.0', escaping: 'underscores' },
    { protocol: 'PrometheusText1.0.0', escaping: 'dots' },
    { protocol: 'PrometheusText1.0.0', escaping: 'values' },
  ];
  for (const format of formats) {
    for (const names of ['legacy', 'utf-8'] as const) {
      const body = new PrometheusText({ scopeLabels: true, targetInfo: true, translationStrategy: strategyFor(names) }, format)
        .serialize(data)
        .toString();
      const lint: SpawnSyncReturns<string> = spawnSync(promtool, ['check', 'metrics'], { input: body, encoding: 'utf8' });
      assert.equal(lint.status, 0, `${format.protocol} ${format.escaping} ${names}: ${lint.stdout}${lint.stderr}\n${body}`);
    }
  }
});

test('text 0.0.4 and text 1.0.0 with legacy names are the same body; allow-utf-8 changes nothing there', () => {
  const data = everything();
  const old = new PrometheusText({ scopeLabels: true, targetInfo: true }).serialize(data).toString();
  for (const escaping of ['underscores', 'allow-utf-8', 'dots', 'values'] as const) {
    const body = new PrometheusText({ scopeLabels: true, targetInfo: true }, { protocol: 'PrometheusText1.0.0', escaping }).serialize(data);
    assert.equal(body.toString(), old, escaping);
  }
});

/** Names as OpenTelemetry gives them (`utf-8`, for the format to escape) or sanitised first (`legacy`). */
function strategyFor(names: 'legacy' | 'utf-8'): TranslationStrategy {
  return names === 'utf-8' ? 'NoUTF8EscapingWithSuffixes' : 'UnderscoreEscapingWithSuffixes';
}
