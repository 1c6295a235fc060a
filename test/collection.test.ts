import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestExporter, type TestExporter } from './support/exporter.ts';
import { family, scrape } from './support/scrape.ts';

const lastError = (exporter: TestExporter, source: string) => exporter.status().find((s) => s.name === source)?.lastError;

test('a hanging source loses only its own series, cut off at its own timeout', async () => {
  const exporter = await startTestExporter('sources: [{ kind: demo }, { kind: hang, name: stuck, timeout: 300ms }]');
  try {
    const { body, samples: all } = await scrape(exporter.url);
    assert.equal(lastError(exporter, 'stuck'), 'collection timed out after 300 ms');
    assert.ok(all.has('random_number'), 'the other source is still served');
    assert.equal(all.get('custom_exporter_source_up{source="stuck"}'), 0);
    assert.equal(all.get('custom_exporter_source_errors_total{source="stuck",reason="timeout"}'), 1);
    assert.equal(family(body, 'hanging_value').length, 0);
  } finally {
    await exporter.stop();
  }
});

test("the scraper's X-Prometheus-Scrape-Timeout-Seconds bounds a slow source", async () => {
  const exporter = await startTestExporter('sources: [{ kind: demo }, { kind: hang, name: stuck, timeout: 1m }]');
  try {
    const started = performance.now();
    const { samples: all } = await scrape(exporter.url, { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': '1.5' } });
    const ms = performance.now() - started;
    // 1.5 s minus the 0.5 s offset (less what the request took to reach the source); the offset is the slack for
    // answering before the scraper gives up at 1.5 s.
    const budget = Number(/^collection timed out after ([\d.]+) ms$/.exec(lastError(exporter, 'stuck') ?? '')?.[1]);
    assert.ok(budget > 500 && budget <= 1000, `a budget of ${budget} ms`);
    assert.ok(ms < 1500, `answered after ${ms} ms, when the scraper had given up`);
    assert.equal(all.get('custom_exporter_source_up{source="stuck"}'), 0);
    assert.ok(all.has('random_number'));
  } finally {
    await exporter.stop();
  }
});

test('a throwing source reports source_up 0 with status 200, the others intact', async () => {
  const exporter = await startTestExporter('sources: [{ kind: demo }, { kind: throw, name: flaky }]');
  try {
    const { body, samples: all } = await scrape(exporter.url);
    assert.equal(all.get('custom_exporter_source_up{source="flaky"}'), 0);
    assert.equal(all.get('custom_exporter_source_up{source="demo"}'), 1);
    assert.equal(all.get('custom_exporter_source_errors_total{source="flaky",reason="error"}'), 1);
    assert.ok(all.has('random_number_2_total'));
    assert.equal(family(body, 'throwing_value').length, 0);
  } finally {
    await exporter.stop();
  }
});

test('10,000 series of one instrument are all present (the SDK alone would cap them at 2000)', async () => {
  const exporter = await startTestExporter('sources: [{ kind: many, series: 10000 }]');
  try {
    const { body } = await scrape(exporter.url);
    const series = family(body, 'many_series_value');
    assert.equal(series.length, 10_000);
    assert.equal(new Set(series.map(([name]) => name)).size, 10_000);
    assert.ok(series.some(([name, value]) => name === 'many_series_value{a="a99",b="b9",c="c9999"}' && value === 9999));
    assert.doesNotMatch(body, /otel_metric_overflow/);
  } finally {
    await exporter.stop();
  }
});

test('a source over the series limit fails that collection visibly instead of being truncated', async () => {
  const exporter = await startTestExporter(
    'global: { seriesLimit: 100 }\nsources: [{ kind: demo }, { kind: many, name: wide, series: 150 }]',
  );
  try {
    const { body, samples: all } = await scrape(exporter.url);
    assert.equal(family(body, 'many_series_value').length, 0, 'no partial set of series');
    assert.equal(all.get('custom_exporter_source_up{source="wide"}'), 0);
    assert.equal(all.get('custom_exporter_source_errors_total{source="wide",reason="series_limit"}'), 1);
    assert.equal(all.get('custom_exporter_source_up{source="demo"}'), 1);
    assert.equal(
      lastError(exporter, 'wide'),
      'instrument "many_series_value" exceeded the series limit of 100 (raise global.seriesLimit or reduce its labels)',
    );
  } finally {
    await exporter.stop();
  }
});

test('a source that fails to start names the source and kind, and nothing starts', async () => {
  await assert.rejects(
    startTestExporter('sources: [{ kind: demo }, { kind: broken, name: billing }]'),
    /^SourceSetupError: source "billing" \(kind broken\) failed to start: missing credentials$/,
  );
});
