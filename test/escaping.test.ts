import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ValueType } from '@opentelemetry/api';
import { emptyResource, resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import fc from 'fast-check';
import { escapeLabelName, escapeMetricName, isClassicLabelName, isClassicMetricName } from '../src/exposition/escaping.ts';
import type { Escaping } from '../src/exposition/format.ts';
import type { TranslationStrategy } from '../src/exposition/metric-names.ts';
import { PrometheusText, type TextProtocol } from '../src/exposition/prometheus-text.ts';

// Prometheus' "UTF-8 metric and label name escaping schemes" (docs/instrumenting/escaping_schemes.md) gives one
// example per scheme; prometheus/common's model.EscapeName tests add the corner cases. The docs write the values
// example's code point as `2E`, model.EscapeName writes (and its UnescapeName reads either) `2e`: we write `2e`.
const EXAMPLES: { input: string; underscores: string; dots: string; values: string; source: string }[] = [
  {
    input: 'metric.name/with/slashes',
    underscores: 'metric_name_with_slashes',
    dots: 'metric_dot_name_with_slashes',
    values: 'U__metric_2e_name_2f_with_2f_slashes',
    source: 'docs, underscores',
  },
  {
    input: 'metric.name.with.dots',
    underscores: 'metric_name_with_dots',
    dots: 'metric_dot_name_dot_with_dot_dots',
    values: 'U__metric_2e_name_2e_with_2e_dots',
    source: 'docs, dots',
  },
  { input: 'metric.name', underscores: 'metric_name', dots: 'metric_dot_name', values: 'U__metric_2e_name', source: 'docs, values' },
  {
    input: 'mysystem.prod.west.cpu.load',
    underscores: 'mysystem_prod_west_cpu_load',
    dots: 'mysystem_dot_prod_dot_west_dot_cpu_dot_load',
    values: 'U__mysystem_2e_prod_2e_west_2e_cpu_2e_load',
    source: 'model.EscapeName, name with dots',
  },
  {
    input: 'http.status:sum',
    underscores: 'http_status:sum',
    dots: 'http_dot_status:sum',
    values: 'U__http_2e_status:sum',
    source: 'model.EscapeName, dots and colon',
  },
  { input: '花火', underscores: '__', dots: '__', values: 'U___82b1__706b_', source: 'model.EscapeName, code points > 0x100' },
  {
    input: 'some?label',
    underscores: 'some_label',
    dots: 'some_label',
    values: 'U__some_3f_label',
    source: 'model.EscapeMetricFamily, label name',
  },
  {
    input: 'http.server_duration',
    underscores: 'http_server_duration',
    dots: 'http_dot_server__duration',
    values: 'U__http_2e_server__duration',
    source: 'underscores doubled by dots and values',
  },
  { input: '1st.metric', underscores: '_st_metric', dots: '_st_dot_metric', values: 'U___31_st_2e_metric', source: 'a leading digit' },
  {
    input: 'no:escaping_required',
    underscores: 'no:escaping_required',
    dots: 'no:escaping_required',
    values: 'no:escaping_required',
    source: 'a classic name is kept by every scheme (model.EscapeMetricFamily)',
  },
];

test('escaping schemes: the examples of Prometheus docs and of model.EscapeName', () => {
  for (const { input, source, ...expected } of EXAMPLES) {
    for (const scheme of ['underscores', 'dots', 'values'] as const) {
      assert.equal(escapeMetricName(input, scheme), expected[scheme], `${scheme}: ${source}`);
    }
    assert.equal(escapeMetricName(input, 'allow-utf-8'), input, `allow-utf-8 keeps the name: ${source}`);
  }
  // The docs' spelling of the values example decodes to the same name as ours.
  assert.equal(unescapeValues('U__metric_2E_name'), 'metric.name');
  assert.equal(unescapeValues(escapeMetricName('metric.name', 'values')), 'metric.name');
});

test('label names: a colon is no classic label-name character, so it is escaped; classic label names are kept', () => {
  assert.equal(escapeLabelName('a:b', 'underscores'), 'a_b');
  assert.equal(escapeLabelName('a:b', 'values'), 'U__a_3a_b');
  assert.equal(escapeLabelName('k.v', 'dots'), 'k_dot_v');
  assert.equal(escapeLabelName('service_name', 'dots'), 'service_name');
  assert.equal(escapeLabelName('a:b', 'allow-utf-8'), 'a:b');
  assert.equal(escapeMetricName('a:b', 'values'), 'a:b');
});

/** Inverse of `dots` for names of classic characters and dots, read left to right (`__` is `_`, `_dot_` is `.`). */
function unescapeDots(name: string): string {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    if (name[i] !== '_') {
      out += name[i];
    } else if (name[i + 1] === '_') {
      out += '_';
      i++;
    } else if (name.startsWith('dot_', i + 1)) {
      out += '.';
      i += 4;
    } else {
      throw new Error(`not a dots-escaped name: ${name}`);
    }
  }
  return out;
}

/** Inverse of `values` (model.UnescapeName): `U__`, then `__` is `_` and `_<hex>_` a code point. */
function unescapeValues(name: string): string {
  assert.ok(name.startsWith('U__'), name);
  let out = '';
  for (let i = 3; i < name.length; i++) {
    if (name[i] !== '_') {
      out += name[i];
    } else if (name[i + 1] === '_') {
      out += '_';
      i++;
    } else {
      const end = name.indexOf('_', i + 1);
      assert.ok(end > i + 1 && end - i - 1 <= 6, `bad code point in ${name}`);
      out += String.fromCodePoint(Number.parseInt(name.slice(i + 1, end), 16));
      i = end;
    }
  }
  return out;
}

const anyName = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).filter((name) => !isClassicMetricName(name));

test('property: underscores, dots and values always give a classic name, for metric and label names', () => {
  fc.assert(
    fc.property(anyName, (name) => {
      for (const scheme of ['underscores', 'dots', 'values'] as const) {
        assert.ok(isClassicMetricName(escapeMetricName(name, scheme)), `${scheme}(${name}) = ${escapeMetricName(name, scheme)}`);
        assert.ok(isClassicLabelName(escapeLabelName(name, scheme)), `${scheme}(${name}) = ${escapeLabelName(name, scheme)}`);
      }
    }),
    { numRuns: 2000 },
  );
});

test('property: values is reversible for any UTF-8 name; dots for names of classic characters and dots', () => {
  fc.assert(
    fc.property(anyName, (name) => {
      assert.equal(unescapeValues(escapeMetricName(name, 'values')), name);
      assert.equal(unescapeValues(escapeLabelName(name, 'values')), name);
    }),
    { numRuns: 2000 },
  );
  const dotted = fc.stringMatching(/^[a-zA-Z_:][a-zA-Z0-9_:.]{0,10}\.[a-zA-Z0-9_:.]{0,5}$/);
  fc.assert(
    fc.property(dotted, (name) => {
      assert.equal(unescapeDots(escapeMetricName(name, 'dots')), name);
    }),
    { numRuns: 2000 },
  );
});

// The writer, with names taken as OpenTelemetry gives them (the translation strategies that keep dots).
const T: [number, number] = [1_700_000_000, 0];

function utf8Collection(): ResourceMetrics {
  const metric = (name: string, type: 'gauge' | 'counter' | 'histogram', attributes: Record<string, string>): MetricData => {
    const base = {
      descriptor: { name, description: `Help of ${name}`, unit: '', valueType: ValueType.DOUBLE },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
    };
    if (type === 'histogram')
      return {
        ...base,
        dataPointType: DataPointType.HISTOGRAM,
        dataPoints: [{ startTime: T, endTime: T, attributes, value: { buckets: { boundaries: [1], counts: [1, 1] }, count: 2, sum: 1.5 } }],
      };
    return {
      ...base,
      dataPointType: type === 'gauge' ? DataPointType.GAUGE : DataPointType.SUM,
      isMonotonic: type === 'counter',
      dataPoints: [{ startTime: T, endTime: T, attributes, value: 1 }],
    };
  };
  return {
    resource: resourceFromAttributes({ 'service.name': 'shop' }),
    scopeMetrics: [
      {
        scope: { name: 's' },
        metrics: [
          metric('http.server.duration', 'gauge', { 'k.v': 'x', plain: 'y' }),
          metric('classic_name', 'gauge', {}),
          metric('http.requests', 'counter', {}),
          metric('rpc.latency', 'histogram', { 'rpc.method': 'Get' }),
          metric('quote"and\\back', 'gauge', { 'a"b': 'v' }),
        ],
      },
    ],
  };
}

function write(protocol: TextProtocol, escaping: Escaping, names: 'legacy' | 'utf-8' = 'utf-8'): string {
  return new PrometheusText({ scopeLabels: false, targetInfo: true, translationStrategy: strategyFor(names) }, { protocol, escaping })
    .serialize(utf8Collection())
    .toString();
}

test('text 1.0.0 with escaping=allow-utf-8 quotes the names outside the classic charset, and only those', () => {
  const body = write('PrometheusText1.0.0', 'allow-utf-8');
  for (const line of [
    '# HELP "http.server.duration" Help of http.server.duration',
    '# TYPE "http.server.duration" gauge',
    '{"http.server.duration","k.v"="x",plain="y"} 1',
    '# TYPE classic_name gauge',
    'classic_name 1',
    '# TYPE "http.requests_total" counter',
    '{"http.requests_total"} 1',
    '{"rpc.latency_count","rpc.method"="Get"} 2',
    '{"rpc.latency_bucket","rpc.method"="Get",le="1"} 1',
    '{"rpc.latency_bucket","rpc.method"="Get",le="+Inf"} 2',
    '{"quote\\"and\\\\back","a\\"b"="v"} 1',
    'target_info{"service.name"="shop"} 1',
  ]) {
    assert.ok(body.split('\n').includes(line), `${line}\nin\n${body}`);
  }
});

test('OpenMetrics 1.0.0 with escaping=allow-utf-8 quotes names the same way; 0.0.1 cannot, and escapes with underscores', () => {
  const body = write('OpenMetricsText1.0.0', 'allow-utf-8');
  for (const line of [
    '# TYPE "http.requests" counter',
    '{"http.requests_total"} 1',
    '{"http.requests_created"} 1700000000',
    '{"rpc.latency_bucket","rpc.method"="Get",le="1.0"} 1',
    '{"rpc.latency_created","rpc.method"="Get"} 1700000000',
    '# EOF',
  ]) {
    assert.ok(body.split('\n').includes(line), `${line}\nin\n${body}`);
  }
  const old = write('OpenMetricsText0.0.1', 'allow-utf-8');
  assert.doesNotMatch(old, /"http/);
  assert.match(old, /^http_requests_total 1$/m);
});

test('the other schemes rewrite metric and label names; text 0.0.4 always escapes with underscores', () => {
  const lines = (body: string) => body.split('\n');
  assert.ok(lines(write('PrometheusText1.0.0', 'underscores')).includes('http_server_duration{k_v="x",plain="y"} 1'));
  assert.ok(lines(write('PrometheusText1.0.0', 'dots')).includes('http_dot_server_dot_duration{k_dot_v="x",plain="y"} 1'));
  assert.ok(lines(write('PrometheusText1.0.0', 'values')).includes('U__http_2e_server_2e_duration{U__k_2e_v="x",plain="y"} 1'));
  assert.ok(lines(write('PrometheusText1.0.0', 'values')).includes('target_info{U__service_2e_name="shop"} 1'));
  assert.equal(write('PrometheusText0.0.4', 'allow-utf-8'), write('PrometheusText1.0.0', 'underscores'));
  // Legacy names (the default translation) are classic already: every scheme writes today's body.
  const legacy = new PrometheusText({ scopeLabels: false, targetInfo: true }).serialize(utf8Collection()).toString();
  for (const escaping of ['allow-utf-8', 'underscores', 'dots', 'values'] as const) {
    assert.equal(write('PrometheusText1.0.0', escaping, 'legacy'), legacy, escaping);
  }
  assert.equal(
    new PrometheusText({ scopeLabels: false, targetInfo: false }).serialize({ resource: emptyResource(), scopeMetrics: [] }).toString(),
    '# no registered metrics',
  );
});

/** Names as OpenTelemetry gives them (`utf-8`, for the format to escape) or sanitised first (`legacy`). */
function strategyFor(names: 'legacy' | 'utf-8'): TranslationStrategy {
  return names === 'utf-8' ? 'NoUTF8EscapingWithSuffixes' : 'UnderscoreEscapingWithSuffixes';
}
