import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DataPointType } from '@opentelemetry/sdk-metrics';
import {
  TRANSLATION_STRATEGIES,
  type TranslationStrategy,
  translatedLabelName,
  translatedName,
  unitWord,
} from '../src/exposition/metric-names.ts';

// OpenTelemetry "Prometheus and OpenMetrics Compatibility" (Metric Metadata, Sums) and the Prometheus exporter
// specification's translation strategies, written out as expected names.

describe('unit words (compatibility spec, Metric Metadata)', () => {
  const table: [unit: string, word: string][] = [
    ['', ''],
    ['d', 'days'],
    ['h', 'hours'],
    ['min', 'minutes'],
    ['s', 'seconds'],
    ['ms', 'milliseconds'],
    ['us', 'microseconds'],
    ['ns', 'nanoseconds'],
    ['By', 'bytes'],
    ['KiBy', 'kibibytes'],
    ['MiBy', 'mebibytes'],
    ['GiBy', 'gibibytes'],
    ['TiBy', 'tebibytes'],
    ['kBy', 'kilobytes'],
    ['MBy', 'megabytes'],
    ['GBy', 'gigabytes'],
    ['TBy', 'terabytes'],
    ['m', 'meters'],
    ['V', 'volts'],
    ['A', 'amperes'],
    ['J', 'joules'],
    ['W', 'watts'],
    ['g', 'grams'],
    ['Cel', 'celsius'],
    ['Hz', 'hertz'],
    ['%', 'percent'],
    ['1', ''],
    // Annotations in braces are dropped; rates become words.
    ['{request}', ''],
    ['{requests}/s', 'per_second'],
    ['m/s', 'meters_per_second'],
    ['By/s', 'bytes_per_second'],
    ['By/m', 'bytes_per_minute'],
    ['1/s', 'per_second'],
    ['By/{request}', 'bytes'],
    ['{packet}/{second}', ''],
    // Units outside the table are kept, sanitised, without edge underscores.
    ['packets', 'packets'],
    ['req.s', 'req_s'],
    [' s ', 'seconds'],
    ['"', ''],
    ['a  b', 'a_b'],
    ['a:b', 'a_b'],
    ['constructor', 'constructor'],
    ['__proto__', 'proto'],
    ['toString/s', 'toString_per_second'],
  ];
  for (const [unit, word] of table) {
    test(`${JSON.stringify(unit)} → ${JSON.stringify(word)}`, () => assert.equal(unitWord(unit), word));
  }
  test('UTF-8 strategies keep the characters of an unknown unit', () => assert.equal(unitWord('req.s', true), 'req.s'));
});

const { GAUGE, SUM, HISTOGRAM, EXPONENTIAL_HISTOGRAM } = DataPointType;

describe('metric names under UnderscoreEscapingWithSuffixes (the default)', () => {
  const table: [name: string, unit: string, type: DataPointType, monotonic: boolean, expected: string][] = [
    // Today's names: the demo's, the exporter's own (self-metrics.ts), unchanged.
    ['request_processing_seconds', 's', HISTOGRAM, false, 'request_processing_seconds'],
    ['random_number', '', GAUGE, false, 'random_number'],
    ['random_number_2', '', SUM, true, 'random_number_2_total'],
    ['process_cpu_seconds', 's', SUM, true, 'process_cpu_seconds_total'],
    ['process_resident_memory_bytes', 'By', GAUGE, false, 'process_resident_memory_bytes'],
    ['custom_exporter_source_last_success_timestamp_seconds', 's', GAUGE, false, 'custom_exporter_source_last_success_timestamp_seconds'],
    ['custom_exporter_scrapes', '', SUM, true, 'custom_exporter_scrapes_total'],
    // Unit suffixes.
    ['http.server.duration', 's', HISTOGRAM, false, 'http_server_duration_seconds'],
    ['http.server.duration', 'ms', EXPONENTIAL_HISTOGRAM, false, 'http_server_duration_milliseconds'],
    ['memory.usage', 'By', GAUGE, false, 'memory_usage_bytes'],
    ['memory.usage', 'By', SUM, false, 'memory_usage_bytes'],
    ['requests', '{requests}/s', GAUGE, false, 'requests_per_second'],
    ['speed', 'm/s', GAUGE, false, 'speed_meters_per_second'],
    ['queue', 'packets', GAUGE, false, 'queue_packets'],
    ['requests', '{request}', SUM, true, 'requests_total'],
    // Type suffixes after the unit, each once.
    ['io', 'By', SUM, true, 'io_bytes_total'],
    ['io_total', 'By', SUM, true, 'io_bytes_total'],
    ['io_bytes_total', 'By', SUM, true, 'io_bytes_total'],
    ['orders_total', '', SUM, true, 'orders_total'],
    ['total', '', SUM, true, 'total_total'],
    ['orders_total', '', SUM, false, 'orders_total'],
    // `1`: _ratio for gauges only (not for UpDownCounters or counters).
    ['cpu.utilization', '1', GAUGE, false, 'cpu_utilization_ratio'],
    ['cpu_utilization_ratio', '1', GAUGE, false, 'cpu_utilization_ratio'],
    ['things', '1', SUM, false, 'things'],
    ['things', '1', SUM, true, 'things_total'],
    // No suffix twice: the name ends with the unit word already (and only a whole word counts).
    ['latency_seconds', 's', GAUGE, false, 'latency_seconds'],
    ['latency.seconds', 's', GAUGE, false, 'latency_seconds'],
    ['seconds', 's', GAUGE, false, 'seconds'],
    ['fractionseconds', 's', GAUGE, false, 'fractionseconds_seconds'],
    ['seconds_elapsed', 's', GAUGE, false, 'seconds_elapsed_seconds'],
    // Escaping: invalid characters and runs of `_`; nothing left is no name.
    ['a..b__c', '', GAUGE, false, 'a_b_c'],
    ['trailing_', 's', GAUGE, false, 'trailing_seconds'],
    ['k8s:pods', '', GAUGE, false, 'k8s:pods'],
    ['...', 's', GAUGE, false, ''],
    ['', 's', GAUGE, false, ''],
  ];
  for (const [name, unit, type, monotonic, expected] of table) {
    test(`${name} [${unit}] ${DataPointType[type]}${monotonic ? ' monotonic' : ''} → ${expected || '(none)'}`, () =>
      assert.equal(translatedName({ name, unit }, type, monotonic, 'UnderscoreEscapingWithSuffixes'), expected));
  }
});

test('the four strategies: the specification example (counter foo.bar, unit By) and more', () => {
  const expected: Record<TranslationStrategy, [string, string, string]> = {
    // counter foo.bar [By], gauge http.server.active [{request}], gauge cpu.util [1]
    UnderscoreEscapingWithSuffixes: ['foo_bar_bytes_total', 'http_server_active', 'cpu_util_ratio'],
    UnderscoreEscapingWithoutSuffixes: ['foo_bar', 'http_server_active', 'cpu_util'],
    NoUTF8EscapingWithSuffixes: ['foo.bar_bytes_total', 'http.server.active', 'cpu.util_ratio'],
    NoTranslation: ['foo.bar', 'http.server.active', 'cpu.util'],
  };
  assert.deepEqual(Object.keys(expected), [...TRANSLATION_STRATEGIES]);
  for (const strategy of TRANSLATION_STRATEGIES) {
    assert.deepEqual(
      [
        translatedName({ name: 'foo.bar', unit: 'By' }, SUM, true, strategy),
        translatedName({ name: 'http.server.active', unit: '{request}' }, GAUGE, false, strategy),
        translatedName({ name: 'cpu.util', unit: '1' }, GAUGE, false, strategy),
      ],
      expected[strategy],
      strategy,
    );
  }
  // With UTF-8 kept, a dot is a word separator: the unit is not added again.
  assert.equal(
    translatedName({ name: 'rpc.duration.seconds', unit: 's' }, HISTOGRAM, false, 'NoUTF8EscapingWithSuffixes'),
    'rpc.duration.seconds',
  );
  assert.equal(translatedName({ name: 'a.total', unit: '' }, SUM, true, 'NoUTF8EscapingWithSuffixes'), 'a_total');
});

test('label names: underscore strategies sanitise attribute keys, UTF-8 ones keep them for the format to escape', () => {
  assert.equal(translatedLabelName('http.method', 'UnderscoreEscapingWithSuffixes'), 'http_method');
  assert.equal(translatedLabelName('0abc', 'UnderscoreEscapingWithoutSuffixes'), 'key_0abc');
  assert.equal(translatedLabelName('http.method', 'NoUTF8EscapingWithSuffixes'), 'http.method');
  assert.equal(translatedLabelName('http.method', 'NoTranslation'), 'http.method');
});
