import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serveCli } from './support/cli.ts';
import { startPrometheus } from './support/prometheus.ts';
import { requireTool } from './support/tools.ts';

test('a real Prometheus scrapes the exporter and sees the demo metrics', { timeout: 60_000 }, async (t) => {
  const binary = requireTool(t, 'prometheus', 'apt-get install prometheus');
  if (!binary) return;
  const exporter = await serveCli();
  const target = new URL(exporter.url).host;
  const prometheus = await startPrometheus(binary, [
    { job_name: 'custom-exporter', scrape_interval: '1s', scrape_timeout: '1s', static_configs: [{ targets: [target] }] },
  ]);
  try {
    await prometheus.waitFor('up{job="custom-exporter"}', (v) => v === 1);
    const value = await prometheus.waitFor('random_number', () => true);
    assert.ok(Number.isInteger(value) && value >= 1 && value <= 20, `random_number = ${value}`);
    const first = await prometheus.waitFor('random_number_2_total', () => true);
    const later = await prometheus.waitFor('random_number_2_total', (v) => v > first);
    assert.ok(later > first);
    await prometheus.waitFor('request_processing_seconds_count', (v) => v > 0);
    await prometheus.waitFor('custom_exporter_source_up{source="demo"}', (v) => v === 1);
    const [health] = await prometheus.targets();
    assert.equal(health?.health, 'up');
  } finally {
    await prometheus.stop();
    exporter.signal('SIGTERM');
    await exporter.exited;
  }
});
