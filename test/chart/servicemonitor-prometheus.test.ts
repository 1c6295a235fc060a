// The rendered ServiceMonitor, turned into the scrape config the Operator would generate, scraped by a
// real Prometheus from an exporter started with the rendered Deployment's arguments and config file.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { chartDir, render } from '../support/helm.ts';
import { startPrometheus } from '../support/prometheus.ts';
import { requireTool } from '../support/tools.ts';
import { startChartExporter } from './local-exporter.ts';
import { scrapeConfigFor } from './scrape-config.ts';

test('Prometheus scrapes the exporter through the default ServiceMonitor (30s interval) and the tuned one', {
  timeout: 120_000,
}, async (t) => {
  const binary = requireTool(t, 'prometheus', 'apt-get install prometheus');
  if (!binary) return;

  const defaults = await render({ releaseName: 'default' });
  const tuned = await render({ releaseName: 'tuned', valuesFiles: [join(chartDir, 'ci', 'tuned-scrape-values.yaml')] });
  const defaultExporter = await startChartExporter(defaults);
  t.after(() => defaultExporter.stop());
  const tunedExporter = await startChartExporter(tuned);
  t.after(() => tunedExporter.stop());

  const defaultEndpoint = scrapeConfigFor(defaults, new URL(defaultExporter.url).host);
  const tunedEndpoint = scrapeConfigFor(tuned, new URL(tunedExporter.url).host);
  assert.equal(defaultEndpoint.containerPort, 9000, 'ServiceMonitor port web → Service 9000 → container 9000');
  assert.equal(defaultEndpoint.scrapeConfig.scrape_interval, '30s');
  assert.equal(defaultEndpoint.scrapeConfig.metrics_path, '/metrics');
  assert.equal(tunedEndpoint.scrapeConfig.metrics_path, '/internal/metrics');

  // The tuned variant serves process_* metrics that its metricRelabelings must drop.
  const raw = await (await fetch(`${tunedExporter.url}/internal/metrics`)).text();
  assert.match(raw, /^process_\w+/m, 'exporter serves process_* on the tuned path');

  const prometheus = await startPrometheus(binary, [defaultEndpoint.scrapeConfig, tunedEndpoint.scrapeConfig]);
  t.after(() => prometheus.stop());

  // relabelings added cluster="ci" to the tuned target.
  await prometheus.waitFor('up{namespace="observability", service="tuned-custom-exporter", cluster="ci"}', (v) => v === 1, 20_000);
  await prometheus.waitFor('custom_exporter_source_up{service="tuned-custom-exporter", source="demo"}', (v) => v === 1, 10_000);
  assert.deepEqual(await prometheus.query('count({__name__=~"process_.*", service="tuned-custom-exporter"})'), []);

  // A 30 s interval starts at a per-target offset inside the first 30 s.
  await prometheus.waitFor(
    // jobLabel app.kubernetes.io/name: the same job for every release, as with node-exporter (issue 10).
    'up{job="custom-exporter", namespace="observability", service="default-custom-exporter"}',
    (v) => v === 1,
    45_000,
  );
  const health = await prometheus.targets();
  assert.deepEqual(health.map((h) => h.health).sort(), ['up', 'up'], JSON.stringify(health));
});
