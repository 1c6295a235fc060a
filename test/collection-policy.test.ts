import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestExporter } from './support/exporter.ts';
import { samples } from './support/exposition.ts';

async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  return samples(await res.text());
}

test('minInterval: concurrent scrapes share one collection, and a close one reuses it', async () => {
  const exporter = await startTestExporter('sources: [{ kind: count, name: slow, delayMs: 300, minInterval: 1m }]');
  try {
    const [a, b] = await Promise.all([scrape(exporter.url), scrape(exporter.url)]);
    assert.equal(a.get('calls_seen'), 1);
    assert.equal(b.get('calls_seen'), 1);
    assert.equal((await scrape(exporter.url)).get('calls_seen'), 1);
  } finally {
    await exporter.stop();
  }
});

test('without minInterval every scrape collects', async () => {
  const exporter = await startTestExporter('sources: [{ kind: count }]');
  try {
    assert.equal((await scrape(exporter.url)).get('calls_seen'), 1);
    assert.equal((await scrape(exporter.url)).get('calls_seen'), 2);
  } finally {
    await exporter.stop();
  }
});

test('minInterval never caches a failure: the next scrape tries again', async () => {
  const exporter = await startTestExporter('sources: [{ kind: count, failFirst: 1, minInterval: 1m }]');
  try {
    const failed = await scrape(exporter.url);
    assert.equal(failed.get('custom_exporter_source_up{source="count"}'), 0);
    assert.equal(failed.get('custom_exporter_source_errors_total{source="count",reason="error"}'), 1);
    const recovered = await scrape(exporter.url);
    assert.equal(recovered.get('custom_exporter_source_up{source="count"}'), 1);
    assert.equal(recovered.get('calls_seen'), 2);
    assert.equal((await scrape(exporter.url)).get('calls_seen'), 2, 'the success is reused');
  } finally {
    await exporter.stop();
  }
});

test('interval mode: polled on schedule, not on scrape', async () => {
  const exporter = await startTestExporter('sources: [{ kind: count, mode: interval, interval: 300ms, timeout: 250ms }]');
  try {
    const first = await scrape(exporter.url);
    assert.equal(first.get('custom_exporter_source_up{source="count"}'), 1);
    const burst = await Promise.all(Array.from({ length: 5 }, () => scrape(exporter.url)));
    const seen = new Set(burst.map((s) => s.get('calls_seen')));
    assert.ok(seen.size <= 2, `5 scrapes at once saw ${[...seen].join(', ')}: scrapes must not trigger polls`);
    const before = Math.max(...(seen as Set<number>));
    await sleep(1500);
    const after = (await scrape(exporter.url)).get('calls_seen')!;
    assert.ok(after - before >= 2, `polled ${after - before} times in 1.5 s with a 300 ms interval`);
  } finally {
    await exporter.stop();
  }
});

test('interval mode: a result older than staleAfter fails with reason stale, counted once', async () => {
  const exporter = await startTestExporter(
    'sources: [{ kind: count, hangAfter: 1, mode: interval, interval: 100ms, staleAfter: 300ms, timeout: 1m }]',
  );
  try {
    assert.equal((await scrape(exporter.url)).get('custom_exporter_source_up{source="count"}'), 1);
    await sleep(600);
    const stale = await scrape(exporter.url);
    assert.equal(stale.get('custom_exporter_source_up{source="count"}'), 0);
    assert.equal(stale.has('calls_seen'), false);
    await scrape(exporter.url);
    const again = await scrape(exporter.url);
    assert.equal(again.get('custom_exporter_source_errors_total{source="count",reason="stale"}'), 1);
  } finally {
    await exporter.stop();
  }
});

test("a failing source's errors count per attempt, not per scrape reading it", async () => {
  const exporter = await startTestExporter('sources: [{ kind: count, failFirst: 1000, mode: interval, interval: 1h }]');
  try {
    for (let i = 0; i < 3; i++) {
      const s = await scrape(exporter.url);
      assert.equal(s.get('custom_exporter_source_up{source="count"}'), 0);
      assert.equal(s.get('custom_exporter_source_errors_total{source="count",reason="error"}'), 1);
    }
  } finally {
    await exporter.stop();
  }
});
