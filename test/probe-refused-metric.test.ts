// custom_exporter_probe_refused_total as the SDK collects it: one series per module and reason, counted by the
// function the probe route calls.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DataPointType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { registerSelfMetrics, SELF_METRICS } from '../src/telemetry/self-metrics.ts';

class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

test('countProbeRefused counts each module and reason on its own series of custom_exporter_probe_refused', async () => {
  const reader = new CollectingReader();
  const provider = new MeterProvider({ readers: [reader] });
  const self = registerSelfMetrics(provider.getMeter('self'), undefined);
  self.countProbeRefused('web', 'dns');
  self.countProbeRefused('web', 'dns');
  self.countProbeRefused('web', 'redirect');
  self.countProbeRefused('api', 'target');
  const { resourceMetrics } = await reader.collect();
  const metric = resourceMetrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .find((m) => m.descriptor.name === SELF_METRICS.probeRefused.name);
  assert.ok(metric, 'custom_exporter_probe_refused is collected');
  assert.equal(metric.dataPointType, DataPointType.SUM);
  assert.equal(metric.descriptor.description, SELF_METRICS.probeRefused.description);
  const series = metric.dataPoints.map((point) => [point.attributes.module, point.attributes.reason, point.value]);
  assert.deepEqual(series.sort(), [
    ['api', 'target', 1],
    ['web', 'dns', 2],
    ['web', 'redirect', 1],
  ]);
  await provider.shutdown();
});
