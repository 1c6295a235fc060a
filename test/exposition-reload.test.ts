import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ServingCli, serveCli } from './support/cli.ts';
import { OtlpReceiver } from './support/otlp/receiver.ts';
import { type Scrape, scrape } from './support/scrape.ts';
import { scriptedSource } from './support/scripted.ts';

const gauge = (name: string) => [{ name, instrument: 'gauge' as const, points: [{ attributes: {}, value: 1 }] }];

async function reload(cli: ServingCli): Promise<void> {
  const response = await fetch(`${cli.url}/-/reload`, { method: 'POST' });
  assert.equal(response.status, 200, await response.text());
}

async function stop(cli: ServingCli): Promise<void> {
  cli.signal('SIGTERM');
  await cli.exited;
}

test('scrapes that overlap a reload never report a source the reload added as down', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'exposition-reload-'));
  const file = join(dir, 'sources.yaml');
  // Each collection of `slow` takes 1 s, so a scrape is in flight while the reload adds `added`.
  const slow = await scriptedSource(dir, 'slow', gauge('slow_value'), 1000);
  await writeFile(file, `sources:\n${slow}`);
  const cli = await serveCli(['--config.file', file, '--web.enable-lifecycle']);
  try {
    await writeFile(file, `sources:\n${slow}${await scriptedSource(dir, 'added', gauge('added_value'))}`);
    const overlapping: Promise<Scrape & { at: number }>[] = [];
    let reloadedAt = 0;
    const reloaded = (async () => {
      await sleep(200); // the scrapes below are in flight by then
      await reload(cli);
      reloadedAt = performance.now();
    })();
    for (let i = 0; i < 3; i++) overlapping.push(scrape(cli.url).then((scraped) => ({ ...scraped, at: performance.now() })));
    await reloaded;
    for (const { body, samples: all, at } of await Promise.all(overlapping)) {
      assert.ok(at > reloadedAt, 'the scrape was still in flight when the reload was applied');
      assert.equal(all.get('custom_exporter_source_up{source="slow"}'), 1);
      assert.notEqual(all.get('custom_exporter_source_up{source="added"}'), 0, `false alert in\n${body}`);
    }
    const after = (await scrape(cli.url)).samples;
    assert.equal(after.get('custom_exporter_source_up{source="added"}'), 1, 'the next scrape reports the added source');
    assert.equal(after.get('added_value'), 1);
  } finally {
    await stop(cli);
  }
});

test('a source removed by a reload takes its synchronous instruments with it, from /metrics and from OTLP pushes', async () => {
  const receiver = await (await OtlpReceiver.create('http/protobuf')).listen();
  const dir = await mkdtemp(join(tmpdir(), 'exposition-reload-'));
  const file = join(dir, 'sources.yaml');
  await writeFile(file, 'sources:\n  - kind: demo\n    name: demo\n');
  const cli = await serveCli(['--config.file', file, '--web.enable-lifecycle'], {
    env: {
      OTEL_METRICS_EXPORTER: 'prometheus,otlp',
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_METRIC_EXPORT_INTERVAL: '300',
      OTEL_METRIC_EXPORT_TIMEOUT: '250',
    },
  });
  try {
    // The demo records its histogram while it is collected.
    await scrape(cli.url);
    assert.match((await scrape(cli.url)).body, /^request_processing_seconds_count \d+$/m);
    await receiver.next((e) => e.metrics.has('request_processing_seconds'));

    await writeFile(file, `sources:\n${await scriptedSource(dir, 'other', gauge('other_value'))}`);
    await reload(cli);
    const { body } = await scrape(cli.url);
    assert.match(body, /^other_value 1$/m);
    assert.doesNotMatch(body, /request_processing_seconds|random_number/, 'nothing of the removed source is left');
    // Pushes after the reload: the other source's gauge, and nothing of the demo's.
    const pushed = await receiver.next((e) => e.metrics.has('other_value'));
    assert.deepEqual(
      [...pushed.metrics.keys()].filter((n) => n.startsWith('request_') || n.startsWith('random_')),
      [],
      `pushed: ${[...pushed.metrics.keys()].join(', ')}`,
    );
  } finally {
    await stop(cli);
    await receiver.close();
  }
});

test('a synchronous instrument over seriesLimit fails its source (source_up 0, series_limit, a warning naming it) and exports none of its series', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'exposition-limit-'));
  const file = join(dir, 'sources.yaml');
  const points = Array.from({ length: 11 }, (_, i) => ({ attributes: { id: `s${i}` }, value: 1 }));
  const many = await scriptedSource(dir, 'many', [
    { name: 'requests', instrument: 'sync_counter', points },
    { name: 'kept_value', instrument: 'gauge', points: [{ attributes: {}, value: 1 }] },
  ]);
  const fine = await scriptedSource(dir, 'fine', [{ name: 'fine_requests', instrument: 'sync_counter', points: points.slice(0, 10) }]);
  await writeFile(file, `global:\n  seriesLimit: 10\nsources:\n${many}${fine}`);
  const cli = await serveCli(['--config.file', file]);
  try {
    const { body, samples: series } = await scrape(cli.url);
    assert.equal(series.get('custom_exporter_source_up{source="many"}'), 0, body);
    assert.equal(series.get('custom_exporter_source_errors_total{source="many",reason="series_limit"}'), 1, body);
    assert.doesNotMatch(body, /^requests_total|otel_metric_overflow|^kept_value/m, 'the failed source loses its series');
    assert.equal(series.get('custom_exporter_source_up{source="fine"}'), 1, 'exactly at the limit is fine');
    assert.equal([...series.keys()].filter((k) => k.startsWith('fine_requests_total{')).length, 10);
    const warning = cli.logs().find((l) => l.msg === 'source collection failed' && l.source === 'many');
    assert.match(String(warning?.err), /instrument "requests" exceeded the series limit of 10/);
  } finally {
    await stop(cli);
  }
});
