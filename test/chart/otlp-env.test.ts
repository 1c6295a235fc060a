// values.otlp turns into the OTEL_* environment the exporter reads (see README, "OTLP / OpenTelemetry Collector").
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveTelemetrySettings } from '../../src/telemetry/telemetry-settings.ts';
import { render } from '../support/helm.ts';
import { exporterContainer } from './k8s.ts';
import { find } from './variants.ts';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}

async function envOf(set: string[]): Promise<EnvVar[]> {
  const deployment = find(await render({ set }), 'Deployment');
  assert.ok(deployment);
  return (exporterContainer(deployment) as { env?: EnvVar[] }).env ?? [];
}

test('otlp is off by default: no OTEL_* variables', async () => {
  assert.deepEqual(
    (await envOf([])).filter((e) => e.name.startsWith('OTEL_')),
    [],
  );
});

test('otlp values render the OTEL_* variables, which the exporter accepts', async () => {
  const env = await envOf([
    'otlp.enabled=true',
    'otlp.endpoint=http://collector:4318',
    'otlp.intervalSeconds=15',
    'otlp.timeoutSeconds=10',
    'otlp.resourceAttributes.team=platform',
    'otlp.resourceAttributes.region=eu',
    'otlp.headersSecret.name=otlp-auth',
  ]);
  const byName = Object.fromEntries(env.map((e) => [e.name, e]));
  assert.equal(byName.OTEL_METRICS_EXPORTER?.value, 'prometheus,otlp');
  assert.equal(byName.OTEL_EXPORTER_OTLP_ENDPOINT?.value, 'http://collector:4318');
  assert.equal(byName.OTEL_EXPORTER_OTLP_PROTOCOL?.value, 'http/protobuf');
  assert.equal(byName.OTEL_METRIC_EXPORT_INTERVAL?.value, '15000');
  assert.equal(byName.OTEL_METRIC_EXPORT_TIMEOUT?.value, '10000');
  assert.equal(byName.OTEL_SERVICE_NAME?.value, 'demo-custom-exporter');
  assert.equal(byName.OTEL_RESOURCE_ATTRIBUTES?.value, 'region=eu,team=platform');
  assert.deepEqual(byName.OTEL_EXPORTER_OTLP_HEADERS?.valueFrom, { secretKeyRef: { name: 'otlp-auth', key: 'headers' } });

  // The exporter's own parser takes what the chart renders.
  const plain = Object.fromEntries(env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
  const settings = resolveTelemetrySettings(plain, undefined);
  assert.deepEqual([...settings.exporters], ['prometheus', 'otlp']);
  assert.equal(settings.intervalMs, 15_000);
  assert.equal(settings.timeoutMs, 10_000);
});

test('a timeout longer than the interval and an unknown protocol are rejected', async () => {
  await assert.rejects(
    envOf(['otlp.enabled=true', 'otlp.intervalSeconds=5', 'otlp.timeoutSeconds=10']),
    /otlp\.timeoutSeconds must not be greater than otlp\.intervalSeconds/,
  );
  await assert.rejects(envOf(['otlp.enabled=true', 'otlp.protocol=thrift']), /otlp\/protocol|protocol/);
});
