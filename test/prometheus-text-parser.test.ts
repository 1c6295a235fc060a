import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DataPointType } from '@opentelemetry/sdk-metrics';
import { familiesToMetrics } from '../src/sources/prometheus-families.ts';
import { MAX_LINE_LENGTH, parsePrometheusText } from '../src/sources/untrusted/prometheus-text-parser.ts';

const parse = (text: string, seriesLimit = 100) => parsePrometheusText(new TextEncoder().encode(text), { what: 'input', seriesLimit });

/** Asserts that parsing `text` fails with `reason` and a message matching `message`. */
function fails(text: string, reason: string, message: RegExp, seriesLimit?: number) {
  assert.throws(
    () => parse(text, seriesLimit),
    (err: Error & { reason?: string }) => {
      assert.equal(err.reason, reason, err.message);
      assert.match(err.message, message);
      return true;
    },
  );
}

describe('Prometheus text parser', () => {
  test('reads 0.0.4 text: HELP (escaped), TYPE, labels with escapes, NaN and ±Inf, timestamps dropped', () => {
    const families = parse(
      [
        '# HELP http_requests_total Requests \\\\ served\\nby code',
        '# TYPE http_requests_total counter',
        'http_requests_total{code="200",path="/a\\"b\\\\c\\nd"} 1027 1395066363000',
        'http_requests_total{ code = "500" , } 3',
        '',
        '# a comment',
        'temperature NaN',
        'limit +Inf',
        'floor -Inf',
        'tiny 1.5e-3',
      ].join('\n'),
    );
    assert.deepEqual(
      families.map((f) => [f.name, f.type, f.help]),
      [
        ['http_requests_total', 'counter', 'Requests \\ served\nby code'],
        ['temperature', 'untyped', ''],
        ['limit', 'untyped', ''],
        ['floor', 'untyped', ''],
        ['tiny', 'untyped', ''],
      ],
    );
    assert.deepEqual(families[0]!.samples[0]!.labels, { code: '200', path: '/a"b\\c\nd' });
    assert.equal(families[0]!.samples[1]!.value, 3);
    assert.ok(Number.isNaN(families[1]!.samples[0]!.value));
    assert.equal(families[2]!.samples[0]!.value, Infinity);
    assert.equal(families[3]!.samples[0]!.value, -Infinity);
    assert.equal(families[4]!.samples[0]!.value, 0.0015);
  });

  test('reads OpenMetrics: UNIT, counters with _total and _created, exemplars dropped, # EOF', () => {
    const families = parse(
      [
        '# TYPE job_runtime_seconds histogram',
        '# UNIT job_runtime_seconds seconds',
        '# HELP job_runtime_seconds How long jobs ran.',
        'job_runtime_seconds_bucket{le="0.5"} 1 # {trace_id="abc"} 0.3 1520879607.789',
        'job_runtime_seconds_bucket{le="+Inf"} 3',
        'job_runtime_seconds_sum 4.5',
        'job_runtime_seconds_count 3',
        'job_runtime_seconds_created 1520430000.123',
        '# TYPE jobs counter',
        'jobs_total 7',
        'jobs_created 1520430000',
        '# TYPE build info',
        'build_info{version="1.2"} 1',
        '# EOF',
      ].join('\n'),
    );
    assert.deepEqual(
      families.map((f) => [f.name, f.type, f.unit, f.samples.map((s) => s.suffix)]),
      [
        ['job_runtime_seconds', 'histogram', 'seconds', ['_bucket', '_bucket', '_sum', '_count', '_created']],
        ['jobs', 'counter', '', ['_total', '_created']],
        ['build', 'info', '', ['_info']],
      ],
    );
  });

  test('histograms and summaries become MetricData: per-bucket counts, quantile gauges and _sum/_count gauges', () => {
    const families = parse(
      [
        '# HELP rpc_seconds RPC latency',
        '# TYPE rpc_seconds histogram',
        'rpc_seconds_bucket{service="a",le="0.1"} 2',
        'rpc_seconds_bucket{service="a",le="1"} 5',
        'rpc_seconds_bucket{service="a",le="+Inf"} 6',
        'rpc_seconds_sum{service="a"} 3.5',
        'rpc_seconds_count{service="a"} 6',
        '# TYPE gc_seconds summary',
        'gc_seconds{quantile="0.5"} 0.01',
        'gc_seconds{quantile="0.99"} 0.2',
        'gc_seconds_sum 12',
        'gc_seconds_count 400',
        '# TYPE jobs_total counter',
        'jobs_total 9',
      ].join('\n'),
    );
    const metrics = familiesToMetrics(families, 'input', 0);
    assert.deepEqual(
      metrics.map((m) => [m.descriptor.name, m.dataPointType]),
      [
        ['rpc_seconds', DataPointType.HISTOGRAM],
        ['gc_seconds', DataPointType.GAUGE],
        ['gc_seconds_sum', DataPointType.GAUGE],
        ['gc_seconds_count', DataPointType.GAUGE],
        ['jobs', DataPointType.SUM],
      ],
    );
    const histogram = metrics[0]!.dataPoints[0]!;
    assert.deepEqual(histogram.attributes, { service: 'a' });
    assert.deepEqual(histogram.value, { buckets: { boundaries: [0.1, 1], counts: [2, 3, 1] }, sum: 3.5, count: 6 });
    assert.deepEqual(
      metrics[1]!.dataPoints.map((p) => [p.attributes, p.value]),
      [
        [{ quantile: '0.5' }, 0.01],
        [{ quantile: '0.99' }, 0.2],
      ],
    );
  });

  for (const [what, text, message] of [
    ['a missing value', 'up\n', /line 1: expected a space before the value of up/],
    ['a value that is not a number', 'ok 1\nup one\n', /line 2: the value of up is not a number: "one"/],
    ['a hexadecimal value', 'up 0x10', /not a number: "0x10"/],
    ['an unclosed label value', 'up{a="b} 1', /line 1: a label value is not closed/],
    ['a bad escape', 'up{a="\\t"} 1', /invalid escape "\\t"/],
    ['a label given twice', 'up{a="1",a="2"} 1', /the label a is given twice/],
    ['a reserved label', 'up{__name__="x"} 1', /starts with __/],
    ['an unknown type', '# TYPE up constructor', /unknown type "constructor"/],
    ['a second TYPE', '# TYPE up gauge\n# TYPE up counter', /line 2: a second # TYPE line for up/],
    ['TYPE after samples', 'up 1\n# TYPE up gauge', /line 2: # TYPE up comes after samples of up/],
    ['text after EOF', 'up 1\n# EOF\nup2 1', /line 3: text after "# EOF"/],
    ['garbage after the timestamp', 'up 1 2 3', /unexpected "3" after up/],
    ['a bucket without le', '# TYPE h histogram\nh_bucket 1', /h_bucket has no le label/],
    ['a bare histogram sample', '# TYPE h histogram\nh 1', /h is a histogram/],
    ['a quantile that is no number', '# TYPE s summary\ns{quantile="high"} 1', /the quantile label of s is not a number/],
    ['a name starting with a digit', '1up 1', /expected a metric name/],
    ['invalid UTF-8', '\uFFFD', /not UTF-8/],
  ] as const) {
    test(`fails with reason parse and the line number: ${what}`, () => {
      if (what === 'invalid UTF-8') {
        assert.throws(
          () => parsePrometheusText(new Uint8Array([0x75, 0x70, 0xff, 0x20, 0x31]), { what: 'input', seriesLimit: 10 }),
          (err: Error & { reason?: string }) => err.reason === 'parse' && message.test(err.message),
        );
        return;
      }
      fails(text, 'parse', message);
    });
  }

  test('a line past the length limit fails with parse, without being scanned', () => {
    fails(`ok 1\nup{a="${'x'.repeat(MAX_LINE_LENGTH)}"} 1`, 'parse', /line 2: the line is longer than 65536 characters/);
  });

  test('a sample written twice fails with reason duplicate (labels in any order)', () => {
    fails('up{a="1",b="2"} 1\nother 2\nup{b="2",a="1"} 3', 'duplicate', /line 3: up\{b="2",a="1"\} is written twice/);
    // Two spellings of one bound are one bucket written twice.
    assert.throws(
      () => familiesToMetrics(parse('# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="1.0"} 1\nh_bucket{le="+Inf"} 1'), 'input', 0),
      (err: Error & { reason?: string }) => err.reason === 'duplicate' && /two buckets with the same le/.test(err.message),
    );
  });

  test('a histogram without +Inf, or with buckets that decrease, fails with parse', () => {
    const convert = (text: string) => () => familiesToMetrics(parse(text), 'input', 0);
    assert.throws(convert('# TYPE h histogram\nh_bucket{le="1"} 1\nh_count 1'), /histogram h\{\} has no le="\+Inf" bucket/);
    assert.throws(
      convert('# TYPE h histogram\nh_bucket{le="1"} 5\nh_bucket{le="+Inf"} 3'),
      /buckets of histogram h\{\} are not cumulative/,
    );
  });

  test('more series in one family than the series limit fails with series_limit; buckets do not count', () => {
    const buckets = (n: number) => ['1', '2', '+Inf'].map((le) => `h_bucket{i="${n}",le="${le}"} ${n}`).join('\n');
    assert.equal(parse(`# TYPE h histogram\n${buckets(1)}\n${buckets(2)}`, 2)[0]!.samples.length, 6);
    fails(`# TYPE h histogram\n${buckets(1)}\n${buckets(2)}\n${buckets(3)}`, 'series_limit', /line 8: h has more than 2 series/, 2);
  });

  test("the exporter's own names are refused", () => {
    assert.throws(
      () => familiesToMetrics(parse('custom_exporter_source_up{source="x"} 1'), 'input', 0),
      /reserved for the exporter's own metrics/,
    );
  });
});
