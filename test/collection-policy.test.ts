import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually } from './support/eventually.ts';
import { startTestExporter } from './support/exporter.ts';
import { scrape } from './support/scrape.ts';

test('minInterval: concurrent scrapes share one collection, and a close one reuses it', async () => {
  const exporter = await startTestExporter('sources: [{ kind: count, name: slow, delayMs: 300, minInterval: 1m }]');
  try {
    const [a, b] = await Promise.all([scrape(exporter.url), scrape(exporter.url)]);
    assert.equal(a.samples.get('calls_seen'), 1);
    assert.equal(b.samples.get('calls_seen'), 1);
    assert.equal((await scrape(exporter.url)).samples.get('calls_seen'), 1);
  } finally {
    await exporter.stop();
  }
});

test('without minInterval every scrape collects', async () => {
  const exporter = await startTestExporter('sources: [{ kind: count }]');
  try {
    assert.equal((await scrape(exporter.url)).samples.get('calls_seen'), 1);
    assert.equal((await scrape(exporter.url)).samples.get('calls_seen'), 2);
  } finally {
    await exporter.stop();
  }
});

test('minInterval never caches a failure: the next scrape tries again', async () => {
  const exporter = await startTestExporter('sources: [{ kind: count, failFirst: 1, minInterval: 1m }]');
  try {
    const failed = (await scrape(exporter.url)).samples;
    assert.equal(failed.get('custom_exporter_source_up{source="count"}'), 0);
    assert.equal(failed.get('custom_exporter_source_errors_total{source="count",reason="error"}'), 1);
    const recovered = (await scrape(exporter.url)).samples;
    assert.equal(recovered.get('custom_exporter_source_up{source="count"}'), 1);
    assert.equal(recovered.get('calls_seen'), 2);
    assert.equal((await scrape(exporter.url)).samples.get('calls_seen'), 2, 'the success is reused');
  } finally {
    await exporter.stop();
  }
});

test('interval mode: polled on schedule, not on scrape', async () => {
  const exporter = await startTestExporter('sources: [{ kind: count, mode: interval, interval: 300ms, timeout: 250ms }]');
  try {
    const first = (await scrape(exporter.url)).samples;
    assert.equal(first.get('custom_exporter_source_up{source="count"}'), 1);
    const burst = await Promise.all(Array.from({ length: 5 }, () => scrape(exporter.url)));
    const seen = new Set(burst.map((s) => s.samples.get('calls_seen')));
    assert.ok(seen.size <= 2, `5 scrapes at once saw ${[...seen].join(', ')}: scrapes must not trigger polls`);
    const before = Math.max(...(seen as Set<number>));
    // Scrapes do not poll (above): what the count gains meanwhile is the schedule's.
    await eventually(async () => {
      const after = (await scrape(exporter.url)).samples.get('calls_seen')!;
      assert.ok(after - before >= 2, `polled ${after - before} more times`);
    });
  } finally {
    await exporter.stop();
  }
});

test('interval mode: a result older than staleAfter fails with reason stale, counted once', async () => {
  const exporter = await startTestExporter(
    'sources: [{ kind: count, hangAfter: 1, mode: interval, interval: 100ms, staleAfter: 300ms, timeout: 1m }]',
  );
  try {
    assert.equal((await scrape(exporter.url)).samples.get('custom_exporter_source_up{source="count"}'), 1);
    const stale = await eventually(async () => {
      const all = (await scrape(exporter.url)).samples;
      assert.equal(all.get('custom_exporter_source_up{source="count"}'), 0);
      return all;
    });
    assert.equal(stale.get('custom_exporter_source_errors_total{source="count",reason="stale"}'), 1);
    assert.equal(stale.has('calls_seen'), false);
    await scrape(exporter.url);
    const again = (await scrape(exporter.url)).samples;
    assert.equal(again.get('custom_exporter_source_errors_total{source="count",reason="stale"}'), 1);
  } finally {
    await exporter.stop();
  }
});

test("a failing source's errors count per attempt, not per scrape reading it", async () => {
  const exporter = await startTestExporter('sources: [{ kind: count, failFirst: 1000, mode: interval, interval: 1h }]');
  try {
    for (let i = 0; i < 3; i++) {
      const s = (await scrape(exporter.url)).samples;
      assert.equal(s.get('custom_exporter_source_up{source="count"}'), 0);
      assert.equal(s.get('custom_exporter_source_errors_total{source="count",reason="error"}'), 1);
    }
  } finally {
    await exporter.stop();
  }
});
