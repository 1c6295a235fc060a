import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { type Attributes, DiagLogLevel, diag, ValueType } from '@opentelemetry/api';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { emptyResource, resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import fc from 'fast-check';
import { PrometheusText } from '../src/exposition/prometheus-text.ts';
import { requireTool } from './support/tools.ts';

const silentLogger = { error() {}, warn() {}, info() {}, debug() {}, verbose() {} };

const T0: [number, number] = [1_700_000_000, 0];
const T1: [number, number] = [1_700_000_060, 0];

function descriptor(name: string, description = '', unit = '', valueType = ValueType.DOUBLE) {
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

function sum(name: string, monotonic: boolean, points: [Attributes, number][], description = ''): MetricData {
  return {
    descriptor: descriptor(name, description, '', ValueType.INT),
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: monotonic,
    dataPoints: points.map(([attributes, value]) => ({ startTime: T0, endTime: T1, attributes, value })),
  };
}

// Units in these samples are ones the name already carries or that add no suffix: the stock serializer adds no unit
// suffixes, the default translation strategy does (test/metric-names.test.ts).
function histogram(name: string, attributes: Attributes, boundaries: number[], counts: number[], unit = ''): MetricData {
  const count = counts.reduce((a, b) => a + b, 0);
  return {
    descriptor: descriptor(name, 'Time taken', unit),
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.HISTOGRAM,
    dataPoints: [
      {
        startTime: T0,
        endTime: T1,
        attributes,
        value: { buckets: { boundaries, counts }, count, sum: count * 0.25, min: 0.001, max: 2 },
      },
    ],
  };
}

/** Every shape the exporter can emit, and the awkward cases of the format. */
function sample(frozen: boolean): ResourceMetrics {
  const a = (attributes: Attributes) => (frozen ? Object.freeze({ ...attributes }) : attributes);
  return {
    resource: resourceFromAttributes({ 'service.name': 'shop "metrics"', 'service.version': '1.2.3', 'host.id': 'a\\b\nc' }),
    scopeMetrics: [
      {
        scope: { name: 'orders' },
        metrics: [
          gauge(
            'queue_depth',
            [
              [a({ queue: 'in' }), 3],
              [a({ queue: 'out', region: 'eu-1' }), 0.5],
              [a({}), -7],
            ],
            'Jobs waiting',
          ),
          sum('orders', true, [[a({ shop: 'a"b', note: 'line\nbreak', path: 'C:\\temp\\x' }), 42]], 'Orders placed'),
          sum('refunds_total', true, [[a({ 'http.status': 200, ok: true, ids: [1, 2], names: ['x', 'y"z'] }), 1]]),
          sum('balance', false, [[a({ 'weird-key.name': 'v', a__b: 'w', lead0: 'x' }), -3]], 'Up and down'),
          gauge('special_values', [
            [a({ v: 'inf' }), Infinity],
            [a({ v: 'minf' }), -Infinity],
            [a({ v: 'nan' }), NaN],
            [a({ v: 'tiny' }), 1e-300],
            [a({ v: 'huge' }), 1.5e21],
          ]),
          gauge('empty_metric', [], 'Nothing observed'),
          gauge('unicode_labels', [[a({ city: 'Zürich', emoji: '📈' }), 1]], 'Ünïcode help\\ with backslash\nand newline'),
          histogram('request_seconds', a({ route: '/x' }), [0.1, 0.5, 1], [1, 2, 3, 4], 's'),
          histogram('bare_histogram', a({}), [0, 5], [0, 1, 0], ''),
          histogram('inf_histogram', a({ k: 'v' }), [1, Infinity], [2, 3, 4]),
          gauge('3d_name.with-dots', [[a({ x: '1' }), 1]]),
        ],
      },
      {
        // The same metric names from another scope (another source): one family, metadata from the first.
        scope: { name: 'payments', version: '2.0.0', schemaUrl: 'https://example.com/schema' },
        metrics: [
          gauge('queue_depth', [[a({ queue: 'payments' }), 9]], 'Jobs waiting'),
          sum('orders', true, [[a({ shop: 'p' }), 1]], 'A different help text'),
          gauge('empty_metric', []),
          gauge('empty_then_filled', []),
          gauge('unit_conflict', [[a({ u: '1' }), 1]], '', '{request}'),
        ],
      },
      {
        scope: { name: 'later' },
        metrics: [
          gauge('empty_then_filled', [[a({ z: '1' }), 1]]),
          gauge('unit_conflict', [[a({ u: '2' }), 2]], '', '{packet}'),
          // A counter named like the gauge family: the type conflict drops the family.
          sum('queue_depth', true, [[a({ queue: 'conflict' }), 1]]),
          sum('queue_depth_total', true, [[a({ x: 'y' }), 1]]),
        ],
      },
    ],
  };
}

const variants = [
  { scopeLabels: false, targetInfo: true },
  { scopeLabels: true, targetInfo: true },
  { scopeLabels: false, targetInfo: false },
  { scopeLabels: true, targetInfo: false },
];

function stock(options: { scopeLabels: boolean; targetInfo: boolean }): PrometheusSerializer {
  return new PrometheusSerializer(undefined, false, undefined, !options.targetInfo, !options.scopeLabels);
}

for (const options of variants) {
  test(`same exposition as the stock PrometheusSerializer (scope labels ${options.scopeLabels ? 'on' : 'off'}, target_info ${options.targetInfo ? 'on' : 'off'})`, () => {
    const fast = new PrometheusText(options);
    for (const frozen of [false, true]) {
      const data = sample(frozen);
      const expected = stock(options).serialize(data);
      // Twice: the second run reads the label text kept from the first.
      assert.equal(fast.serialize(data).toString('utf8'), expected, `first run, frozen attributes: ${frozen}`);
      assert.equal(fast.serialize(data).toString('utf8'), expected, `second run, frozen attributes: ${frozen}`);
    }
  });
}

test('nothing to export: the stock placeholder, with and without target_info', () => {
  for (const options of variants) {
    const data: ResourceMetrics = { resource: emptyResource(), scopeMetrics: [{ scope: { name: 's' }, metrics: [] }] };
    assert.equal(new PrometheusText(options).serialize(data).toString(), stock(options).serialize(data));
    const none: ResourceMetrics = { resource: emptyResource(), scopeMetrics: [] };
    assert.equal(new PrometheusText(options).serialize(none).toString(), stock(options).serialize(none));
  }
});

test('label text is kept only for frozen attribute sets: a mutable set is read afresh every time', () => {
  const fast = new PrometheusText({ scopeLabels: false, targetInfo: false });
  const mutable: Attributes = { k: 'before' };
  const frozen = Object.freeze({ k: 'fixed' });
  const data: ResourceMetrics = {
    resource: emptyResource(),
    scopeMetrics: [
      {
        scope: { name: 's' },
        metrics: [
          gauge('g', [
            [mutable, 1],
            [frozen, 2],
          ]),
        ],
      },
    ],
  };
  assert.match(fast.serialize(data).toString(), /g\{k="before"\} 1/);
  mutable.k = 'after';
  const second = fast.serialize(data).toString();
  assert.match(second, /g\{k="after"\} 1/);
  assert.match(second, /g\{k="fixed"\} 2/);
});

test('a large exposition grows the buffer and stays identical to the stock one', () => {
  const points: [Attributes, number][] = [];
  for (let i = 0; i < 20_000; i++) points.push([Object.freeze({ a: `a${i % 100}`, b: `b${i % 10}`, c: `c${i}` }), i]);
  const data: ResourceMetrics = {
    resource: emptyResource(),
    scopeMetrics: [{ scope: { name: 'bench' }, metrics: [gauge('bench_gauge', points, 'g'), sum('bench_counter', true, points, 'c')] }],
  };
  const fast = new PrometheusText({ scopeLabels: false, targetInfo: true });
  const expected = stock({ scopeLabels: false, targetInfo: true }).serialize(data);
  assert.equal(fast.serialize(data).toString(), expected);
  assert.equal(fast.serialize(data).toString(), expected);
});

test('promtool check metrics accepts the fast exposition', (t) => {
  const promtool = requireTool(t, 'promtool', 'apt-get install prometheus');
  if (!promtool) return;
  // Without the deliberate conflicts and duplicate series of the comparison sample.
  const data: ResourceMetrics = {
    resource: resourceFromAttributes({ 'service.name': 'x' }),
    scopeMetrics: [
      {
        scope: { name: 'orders' },
        metrics: [
          gauge(
            'queue_depth',
            [
              [{ queue: 'in "q"\\\n' }, 3],
              [{}, 1],
            ],
            'Jobs waiting',
          ),
          sum('orders', true, [[{ shop: 'a', code: 200 }, 42]], 'Orders placed'),
          histogram('request_seconds', { route: '/x' }, [0.1, 0.5, 1], [1, 2, 3, 4], 's'),
        ],
      },
    ],
  };
  for (const options of variants) {
    const body = new PrometheusText(options).serialize(data).toString();
    const lint: SpawnSyncReturns<string> = spawnSync(promtool, ['check', 'metrics'], { input: body, encoding: 'utf8' });
    assert.equal(lint.status, 0, `promtool: ${lint.stdout}${lint.stderr}\n${body}`);
  }
});

test('label text kept by position follows series that move, appear and disappear between expositions', () => {
  const fast = new PrometheusText({ scopeLabels: false, targetInfo: false });
  const sets = ['x', 'y', 'z', 'w'].map((k) => Object.freeze({ k }));
  const expose = (order: number[], twice = false) => {
    const points: [Attributes, number][] = order.map((i) => [sets[i]!, i]);
    const metrics = [gauge('moving', points)];
    if (twice) metrics.push(gauge('moving', points.slice().reverse())); // same scope and name twice
    const data: ResourceMetrics = { resource: emptyResource(), scopeMetrics: [{ scope: { name: 's' }, metrics }] };
    assert.equal(fast.serialize(data).toString(), stock({ scopeLabels: false, targetInfo: false }).serialize(data));
  };
  expose([0, 1, 2]);
  expose([0, 1, 2]);
  expose([2, 0, 1]);
  expose([1]);
  expose([3, 1, 0, 2]);
  expose([3, 1, 0, 2], true);
  expose([0, 2], true);
});

// OpenTelemetry "Prometheus and OpenMetrics Compatibility", Metric Attributes: where the stock serializer writes an
// unparseable page, the attributes follow the spec's rules instead.
test('attribute keys that are no label names: key_ before a leading digit, colliding keys joined by ; in key order', () => {
  const fast = new PrometheusText({ scopeLabels: false, targetInfo: false });
  const data: ResourceMetrics = {
    resource: emptyResource(),
    scopeMetrics: [
      {
        scope: { name: 's' },
        metrics: [
          gauge('g', [
            [Object.freeze({ '0abc': 'x' }), 1],
            [Object.freeze({ 'a.b': 'x', a_b: 'y' }), 2],
            [{ a_b: 'q', 'a-b': 'p', 'a.b': 'r', other: 'o' }, 3],
            [Object.freeze({ '': 'no name', k: 'v' }), 4],
            [Object.freeze({ ä: 'umlaut', é: 'accent' }), 5],
          ]),
        ],
      },
    ],
  };
  const expected = ['g{key_0abc="x"} 1', 'g{a_b="x;y"} 2', 'g{a_b="p;r;q",other="o"} 3', 'g{k="v"} 4', 'g{_="umlaut;accent"} 5'];
  for (const run of ['first', 'second (kept label text)']) {
    const body = fast.serialize(data).toString();
    assert.deepEqual(
      body.split('\n').filter((l) => l.startsWith('g')),
      expected,
      run,
    );
  }
  // The resource (OTEL_RESOURCE_ATTRIBUTES) follows the same rules in target_info.
  const resource = resourceFromAttributes({ '0zone': 'a', a_b: 'y', 'a.b': 'x' });
  const info = new PrometheusText({ scopeLabels: false, targetInfo: true }).serialize({ ...data, resource }).toString();
  assert.match(info, /^target_info\{key_0zone="a",a_b="x;y"\} 1$/m);
});

test('attributes named like the labels the writer adds (le, otel_scope_*) are kept as exported_<name>', (t) => {
  const data: ResourceMetrics = {
    resource: emptyResource(),
    scopeMetrics: [
      {
        scope: { name: 'orders', version: '1' },
        metrics: [
          histogram('h', Object.freeze({ le: 'mine', exported_le: 'taken' }), [1], [1, 0]),
          gauge('g', [[Object.freeze({ 'otel.scope.name': 'spoofed', other: 'x' }), 1]]),
        ],
      },
    ],
  };
  const scoped = new PrometheusText({ scopeLabels: true, targetInfo: false }).serialize(data).toString();
  assert.match(scoped, /^h_bucket\{exported_le="taken;mine",otel_scope_name="orders",otel_scope_version="1",le="1"\} 1$/m);
  assert.match(scoped, /^g\{exported_otel_scope_name="spoofed",other="x",otel_scope_name="orders",otel_scope_version="1"\} 1$/m);
  const plain = new PrometheusText({ scopeLabels: false, targetInfo: false }).serialize(data).toString();
  assert.match(plain, /^h_count\{exported_le="taken;mine"\} 1$/m);
  assert.match(plain, /^g\{otel_scope_name="spoofed",other="x"\} 1$/m, 'without scope labels the name is free');
  const promtool = requireTool(t, 'promtool', 'apt-get install prometheus');
  if (!promtool) return;
  for (const body of [scoped, plain]) {
    const lint: SpawnSyncReturns<string> = spawnSync(promtool, ['check', 'metrics'], { input: body, encoding: 'utf8' });
    assert.equal(lint.status, 0, `promtool: ${lint.stdout}${lint.stderr}\n${body}`);
  }
});

test('a family named like the _count, _sum or _bucket lines of a histogram is dropped, with one warning', (t) => {
  const data: ResourceMetrics = {
    resource: emptyResource(),
    scopeMetrics: [
      {
        scope: { name: 's' },
        metrics: [
          gauge('lat_count', [[{}, 7]]),
          histogram('lat', {}, [1], [1, 1]),
          sum('lat_sum', false, [[{}, 1]]),
          gauge('lat_other', [[{}, 2]]),
        ],
      },
    ],
  };
  const warnings: string[] = [];
  diag.setLogger({ ...silentLogger, warn: (message: string) => warnings.push(message) }, DiagLogLevel.WARN);
  try {
    const fast = new PrometheusText({ scopeLabels: false, targetInfo: false });
    const body = fast.serialize(data).toString();
    fast.serialize(data);
    assert.doesNotMatch(body, /lat_count 7|TYPE lat_count|TYPE lat_sum/);
    assert.match(body, /^lat_count 2$/m);
    assert.match(body, /^lat_other 2$/m);
    assert.equal(warnings.length, 2, warnings.join('\n'));
    assert.match(warnings[0]!, /"lat_count"/);
    const promtool = requireTool(t, 'promtool', 'apt-get install prometheus');
    if (!promtool) return;
    const lint: SpawnSyncReturns<string> = spawnSync(promtool, ['check', 'metrics'], { input: body, encoding: 'utf8' });
    assert.equal(lint.status, 0, `promtool: ${lint.stdout}${lint.stderr}\n${body}`);
  } finally {
    diag.disable();
  }
});

test('a large attribute set with colliding keys: every label once, values joined in key order', () => {
  const attributes: Attributes = {};
  for (let i = 0; i < 50; i++) {
    attributes[`k_${i}`] = `u${i}`;
    attributes[`k.${i}`] = `d${i}`;
  }
  const data: ResourceMetrics = {
    resource: emptyResource(),
    scopeMetrics: [{ scope: { name: 's' }, metrics: [gauge('big', [[attributes, 1]])] }],
  };
  const line = new PrometheusText({ scopeLabels: false, targetInfo: false })
    .serialize(data)
    .toString()
    .split('\n')
    .find((l) => l.startsWith('big{'));
  const expected = Array.from({ length: 50 }, (_, i) => `k_${i}="d${i};u${i}"`).join(',');
  assert.equal(line, `big{${expected}} 1`);
});

test('property: for input the stock serializer writes validly, the fast writer is byte-identical to it', () => {
  // Valid label names that sanitising leaves alone: no digit first, no run of `_`, not a label the writer adds.
  const key = fc
    .stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,6}$/)
    .filter((k) => !k.includes('__') && k !== 'le' && !k.startsWith('otel_scope_'));
  const value = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 8 }),
    fc.constantFrom('"', '\\', '\n', 'a"b\\c\nd'),
    fc.integer(),
    fc.boolean(),
  );
  const attributes = fc.dictionary(key, value, { maxKeys: 4 });
  const number = fc.oneof(fc.double(), fc.integer());
  const metric = fc.record({
    kind: fc.constantFrom('gauge', 'counter', 'updowncounter', 'histogram'),
    help: fc.string({ unit: 'binary', maxLength: 12 }),
    points: fc.array(fc.tuple(attributes, number), { maxLength: 4 }),
    frozen: fc.boolean(),
  });
  fc.assert(
    fc.property(fc.array(metric, { maxLength: 5 }), fc.boolean(), fc.boolean(), (drawn, scopeLabels, targetInfo) => {
      const metrics = drawn.map(({ kind, help, points, frozen }, i): MetricData => {
        // Unique names: two families of one name with different types or clashing histogram lines are not valid input.
        const name = `m${i}_${kind}`;
        const sets = points.map(([attributes, v]): [Attributes, number] => [frozen ? Object.freeze({ ...attributes }) : attributes, v]);
        if (kind === 'gauge') return gauge(name, sets, help);
        if (kind === 'histogram') return histogram(name, sets[0]?.[0] ?? {}, [0.5, 1], [1, 2, sets.length]);
        return sum(name, kind === 'counter', sets, help);
      });
      const data: ResourceMetrics = { resource: emptyResource(), scopeMetrics: [{ scope: { name: 'p', version: '1' }, metrics }] };
      const options = { scopeLabels, targetInfo };
      const fast = new PrometheusText(options);
      const expected = stock(options).serialize(data);
      assert.equal(fast.serialize(data).toString(), expected);
      assert.equal(fast.serialize(data).toString(), expected, 'second run, from kept label text');
    }),
    { numRuns: 300 },
  );
});
