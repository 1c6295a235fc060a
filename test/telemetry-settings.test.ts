import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseConfig } from '../src/config/load.ts';
import { builtinSources } from '../src/sources/registry.ts';
import { resolveTelemetrySettings, TelemetrySettingsError } from '../src/telemetry/telemetry-settings.ts';
import { runCli } from './support/cli.ts';

const fileTelemetry = parseConfig(
  `telemetry:
  exporters: [prometheus, otlp]
  otlp:
    protocol: grpc
    endpoint: http://collector:4317
    headers: { x-tenant: shop }
    compression: gzip
    interval: 15s
    exportTimeout: 5s
sources: [{ kind: demo }]
`,
  'telemetry.yaml',
  builtinSources,
).telemetry;

describe('telemetry settings', () => {
  test('defaults: Prometheus pull only, http/protobuf, 60 s interval, 30 s timeout', () => {
    const settings = resolveTelemetrySettings({}, undefined);
    assert.deepEqual([...settings.exporters], ['prometheus']);
    assert.equal(settings.protocol, 'http/protobuf');
    assert.equal(settings.intervalMs, 60_000);
    assert.equal(settings.timeoutMs, 30_000);
    assert.deepEqual(settings.otlp, { url: undefined, headers: undefined, compression: undefined, timeoutMs: 30_000 });
  });

  test('the config file sets what the environment does not', () => {
    const settings = resolveTelemetrySettings({}, fileTelemetry);
    assert.deepEqual([...settings.exporters], ['prometheus', 'otlp']);
    assert.equal(settings.protocol, 'grpc');
    assert.equal(settings.intervalMs, 15_000);
    assert.equal(settings.timeoutMs, 5000);
    assert.deepEqual(settings.otlp, {
      url: 'http://collector:4317/',
      headers: { 'x-tenant': 'shop' },
      compression: 'gzip',
      timeoutMs: 5000,
    });
  });

  test('the environment wins over the config file, setting by setting', () => {
    const settings = resolveTelemetrySettings(
      {
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_METRIC_EXPORT_INTERVAL: '1000',
        OTEL_METRIC_EXPORT_TIMEOUT: '800',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://other:4318',
        OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'a=b',
        OTEL_EXPORTER_OTLP_COMPRESSION: 'none',
        OTEL_EXPORTER_OTLP_TIMEOUT: '700',
      },
      fileTelemetry,
    );
    assert.deepEqual([...settings.exporters], ['otlp']);
    assert.equal(settings.protocol, 'http/json');
    assert.equal(settings.intervalMs, 1000);
    assert.equal(settings.timeoutMs, 800);
    // The exporter reads these variables itself: nothing from the file may override them.
    assert.deepEqual(settings.otlp, { url: undefined, headers: undefined, compression: undefined, timeoutMs: undefined });
  });

  test('the signal-specific protocol variable wins over the generic one', () => {
    const settings = resolveTelemetrySettings(
      { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json' },
      undefined,
    );
    assert.equal(settings.protocol, 'http/json');
  });

  test('a base endpoint from the file gets /v1/metrics for HTTP, like OTEL_EXPORTER_OTLP_ENDPOINT', () => {
    const http = resolveTelemetrySettings({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }, fileTelemetry);
    assert.equal(http.otlp.url, 'http://collector:4317/v1/metrics');
  });

  test('OTEL_SDK_DISABLED=true turns every exporter off; empty variables count as unset', () => {
    assert.equal(resolveTelemetrySettings({ OTEL_SDK_DISABLED: 'TRUE', OTEL_METRICS_EXPORTER: 'otlp' }, undefined).exporters.size, 0);
    assert.deepEqual(
      [...resolveTelemetrySettings({ OTEL_SDK_DISABLED: 'false', OTEL_METRICS_EXPORTER: ' ' }, undefined).exporters],
      ['prometheus'],
    );
    assert.equal(resolveTelemetrySettings({ OTEL_METRICS_EXPORTER: 'none' }, undefined).exporters.size, 0);
  });

  test('an unset export timeout follows a shorter interval; a longer one set explicitly is cut to the interval, with a warning', () => {
    const warnings: string[] = [];
    const warn = (message: string) => warnings.push(message);
    const alone = resolveTelemetrySettings({ OTEL_METRIC_EXPORT_INTERVAL: '5000' }, undefined, warn);
    assert.deepEqual([alone.intervalMs, alone.timeoutMs, warnings], [5000, 5000, []]);
    const both = resolveTelemetrySettings({ OTEL_METRIC_EXPORT_INTERVAL: '1000', OTEL_METRIC_EXPORT_TIMEOUT: '5000' }, undefined, warn);
    assert.deepEqual([both.intervalMs, both.timeoutMs], [1000, 1000]);
    assert.deepEqual(warnings, [
      'OTEL_METRIC_EXPORT_TIMEOUT (5000 ms) is longer than OTEL_METRIC_EXPORT_INTERVAL (1000 ms): pushes time out after 1000 ms',
    ]);
    warnings.length = 0;
    const fromFile = resolveTelemetrySettings({}, { otlp: { interval: 5000, exportTimeout: 10_000 } }, warn);
    assert.deepEqual([fromFile.intervalMs, fromFile.timeoutMs], [5000, 5000]);
    assert.deepEqual(warnings, [
      'telemetry.otlp.exportTimeout (10000 ms) is longer than telemetry.otlp.interval (5000 ms): pushes time out after 5000 ms',
    ]);
  });

  test('invalid values are errors naming the variable and the reason', () => {
    const cases: [NodeJS.ProcessEnv, string][] = [
      [{ OTEL_METRICS_EXPORTER: 'prometheus,zipkin' }, 'OTEL_METRICS_EXPORTER: "zipkin" is not one of prometheus, otlp, console, none'],
      [{ OTEL_METRICS_EXPORTER: 'none,otlp' }, 'OTEL_METRICS_EXPORTER: "none" cannot be combined with other exporters'],
      [
        { OTEL_EXPORTER_OTLP_PROTOCOL: 'http' },
        'OTEL_EXPORTER_OTLP_[METRICS_]PROTOCOL: "http" is not one of http/protobuf, http/json, grpc',
      ],
      [{ OTEL_METRIC_EXPORT_INTERVAL: '10s' }, 'OTEL_METRIC_EXPORT_INTERVAL: "10s" is not a positive whole number of milliseconds'],
      [{ OTEL_SDK_DISABLED: 'yes' }, 'OTEL_SDK_DISABLED: "yes" is not true or false'],
    ];
    for (const [env, message] of cases) {
      assert.throws(
        () => resolveTelemetrySettings(env, undefined),
        (err: unknown) => err instanceof TelemetrySettingsError && err.message === message,
      );
    }
  });

  test('the config file telemetry section is validated with positions', () => {
    assert.throws(
      () => parseConfig('telemetry:\n  otlp:\n    protocol: http\nsources: [{ kind: demo }]\n', 'telemetry.yaml', builtinSources),
      /^ConfigError: telemetry\.yaml:3:5: telemetry\.otlp\.protocol: Invalid option: expected one of "http\/protobuf"\|"http\/json"\|"grpc"$/,
    );
    assert.throws(
      () => parseConfig('telemetry:\n  otlp:\n    endpoint: collector:4317\nsources: [{ kind: demo }]\n', 'telemetry.yaml', builtinSources),
      /telemetry\.yaml:3:5: telemetry\.otlp\.endpoint: must be an http:\/\/ or https:\/\/ URL/,
    );
  });

  test('the exporter refuses to start on an invalid OTEL_* value: exit 2 and the reason', async () => {
    const run = await runCli(['--log.format=json', '--web.listen-address=127.0.0.1:0'], { env: { OTEL_METRICS_EXPORTER: 'zipkin' } });
    assert.equal(run.code, 2);
    const last = JSON.parse(run.stderr.trim().split('\n').at(-1)!) as { msg: string; err: string };
    assert.equal(last.msg, 'invalid configuration');
    assert.equal(last.err, 'OTEL_METRICS_EXPORTER: "zipkin" is not one of prometheus, otlp, console, none');
  });
});
