import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { serveCli } from './support/cli.ts';
import { requireOpenMetricsParser } from './support/openmetrics-parser.ts';
import { startPrometheus } from './support/prometheus.ts';
import { requireTool } from './support/tools.ts';

// What Prometheus 2.42 sends by default (scrape/scrape.go, scrapeAcceptHeader): OpenMetrics first.
const PROMETHEUS_2_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

test('the built exporter answers a Prometheus 2 Accept header with OpenMetrics that the strict parser reads', {
  timeout: 60_000,
}, async (t) => {
  const parse = requireOpenMetricsParser(t);
  if (!parse) return;
  const exporter = await serveCli();
  try {
    const response = await fetch(`${exporter.url}/metrics`, { headers: { accept: PROMETHEUS_2_ACCEPT } });
    const body = await response.text();
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores');
    const families = new Map(parse(body).map((f) => [f.name, f]));
    // The demo source (gauge, counter, histogram) and the exporter's own metrics, target_info first.
    assert.equal(families.get('random_number')?.type, 'gauge');
    const counter = families.get('random_number_2');
    assert.equal(counter?.type, 'counter');
    assert.deepEqual(
      counter?.samples.map((s) => s.name),
      ['random_number_2_total', 'random_number_2_created'],
    );
    const created = counter?.samples[1]?.value as number;
    assert.ok(Math.abs(created - Date.now() / 1000) < 60, `_created is the counter's start, in seconds: ${created}`);
    const histogram = families.get('request_processing_seconds');
    assert.equal(histogram?.type, 'histogram');
    assert.equal(histogram?.samples.at(-1)?.name, 'request_processing_seconds_created');
    assert.ok(
      histogram?.samples.some((s) => s.labels.le === '10.0'),
      'le in canonical form',
    );
    assert.equal(families.get('target')?.type, 'info');
    assert.equal(families.get('custom_exporter_source_up')?.type, 'gauge');
  } finally {
    exporter.signal('SIGTERM');
    await exporter.exited;
  }
});

test('a real Prometheus 2.42 negotiates OpenMetrics and ingests it: up, values, buckets and _created', { timeout: 90_000 }, async (t) => {
  const binary = requireTool(t, 'prometheus', 'apt-get install prometheus');
  if (!binary) return;
  const startedAt = Date.now() / 1000;
  const exporter = await serveCli();
  const target = new URL(exporter.url).host;
  const prometheus = await startPrometheus(binary, [
    { job_name: 'custom-exporter', scrape_interval: '1s', scrape_timeout: '1s', static_configs: [{ targets: [target] }] },
  ]);
  try {
    await prometheus.waitFor('up{job="custom-exporter"}', (v) => v === 1);
    const first = await prometheus.waitFor('random_number_2_total', () => true);
    await prometheus.waitFor('random_number_2_total', (v) => v > first);
    // le="10.0" (not text 0.0.4's le="10") shows the page Prometheus ingested was OpenMetrics.
    await prometheus.waitFor('request_processing_seconds_bucket{le="10.0"}', (v) => v > 0);
    await prometheus.waitFor('request_processing_seconds_count', (v) => v > 0);
    // Prometheus 2.42 keeps a `_created` sample as a series of its own (created-timestamp handling came later).
    const created = await prometheus.waitFor('random_number_2_created', () => true);
    assert.ok(created >= startedAt - 1 && created <= Date.now() / 1000, `random_number_2_created = ${created}, started ${startedAt}`);
    await prometheus.waitFor('request_processing_seconds_created', (v) => v >= startedAt - 1);
    await prometheus.waitFor('target_info', (v) => v === 1);
    const [health] = await prometheus.targets();
    assert.equal(health?.health, 'up');
    assert.equal(health?.lastError, '');
  } finally {
    await prometheus.stop();
    exporter.signal('SIGTERM');
    await exporter.exited;
  }
});

test('text 1.0.0 from the built exporter: the Content-Type names the escaping, and promtool accepts the body', {
  timeout: 60_000,
}, async (t) => {
  const promtool = requireTool(t, 'promtool', 'apt-get install prometheus');
  if (!promtool) return;
  const exporter = await serveCli();
  try {
    for (const escaping of ['underscores', 'allow-utf-8'] as const) {
      const response = await fetch(`${exporter.url}/metrics`, { headers: { accept: `text/plain;version=1.0.0;escaping=${escaping}` } });
      const body = await response.text();
      assert.equal(response.headers.get('content-type'), `text/plain; version=1.0.0; charset=utf-8; escaping=${escaping}`);
      // Under the default translation every name is classic: nothing to quote, a body any 0.0.4 parser reads.
      assert.match(body, /^random_number_2_total \d+$/m);
      const lint: SpawnSyncReturns<string> = spawnSync(promtool, ['check', 'metrics'], { input: body, encoding: 'utf8' });
      assert.equal(lint.status, 0, `promtool (${escaping}): ${lint.stdout}${lint.stderr}`);
    }
  } finally {
    exporter.signal('SIGTERM');
    await exporter.exited;
  }
});
