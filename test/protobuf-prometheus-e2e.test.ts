import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { serveCli } from './support/cli.ts';
import { startPrometheus } from './support/prometheus.ts';
import { decodeFamilies, knownObservationsConfig, PROTOBUF_CONTENT_TYPE } from './support/protobuf-exposition.ts';
import { requireTool } from './support/tools.ts';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('Prometheus 2.42 with native histograms scrapes the exporter over protobuf: counter and classic histogram right', {
  timeout: 90_000,
}, async (t) => {
  const binary = requireTool(t, 'prometheus', 'apt-get install prometheus');
  if (!binary) return;
  const cli = await serveCli(['--config.file', await knownObservationsConfig()]);
  // Between Prometheus and the exporter: records what each scrape asked for and what it got.
  const exchanges: { accept: string | undefined; contentType: string | undefined }[] = [];
  const exporter = new URL(cli.url);
  const proxy = createServer((req, res) => {
    const forward = request(
      { host: exporter.hostname, port: exporter.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        exchanges.push({ accept: req.headers.accept, contentType: answer.headers['content-type'] });
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  const target = await listen(proxy);
  const prometheus = await startPrometheus(
    binary,
    [{ job_name: 'custom-exporter', scrape_interval: '1s', scrape_timeout: '1s', static_configs: [{ targets: [target] }] }],
    ['--enable-feature=native-histograms'],
  );
  try {
    await prometheus.waitFor('up{job="custom-exporter"}', (v) => v === 1);
    assert.equal(await prometheus.waitFor('known_events_total{kind="test"}', () => true), 42);
    assert.equal(await prometheus.waitFor('known_latency_seconds_count{route="/x"}', () => true), 3);
    assert.equal(await prometheus.waitFor('known_latency_seconds_sum{route="/x"}', () => true), 2.55);
    // Prometheus 2.x spells `le` of protobuf buckets as OpenMetrics floats (1.0; text 0.0.4 gives "1"), its own choice.
    assert.equal(await prometheus.waitFor('known_latency_seconds_bucket{route="/x",le="1.0"}', () => true), 2);
    assert.equal(await prometheus.waitFor('known_latency_seconds_bucket{route="/x",le="+Inf"}', () => true), 3);
    assert.ok(exchanges.length > 0);
    for (const { accept, contentType } of exchanges) {
      assert.ok(contentType?.startsWith(PROTOBUF_CONTENT_TYPE), `asked for ${accept}, got ${contentType}`);
    }
  } finally {
    await prometheus.stop();
    proxy.close();
    cli.signal('SIGTERM');
    await cli.exited;
  }
});

test("Prometheus 2.42 ingests the exporter's exponential histograms as native ones: histogram_count, _sum, _fraction, _quantile", {
  timeout: 90_000,
}, async (t) => {
  const binary = requireTool(t, 'prometheus', 'apt-get install prometheus');
  if (!binary) return;
  // The fixture records 0.05, 0.5 and 2 seconds; exponential aggregation overrides the instrument's bucket advice.
  const cli = await serveCli(['--config.file', await knownObservationsConfig('  histograms: { aggregation: exponential }')]);
  const prometheus = await startPrometheus(
    binary,
    [{ job_name: 'custom-exporter', scrape_interval: '1s', scrape_timeout: '1s', static_configs: [{ targets: [new URL(cli.url).host] }] }],
    ['--enable-feature=native-histograms'],
  );
  try {
    await prometheus.waitFor('up{job="custom-exporter"}', (v) => v === 1);
    const series = 'known_latency_seconds{route="/x"}';
    assert.equal(await prometheus.waitFor(`histogram_count(${series})`, () => true), 3);
    assert.equal(await prometheus.waitFor(`histogram_sum(${series})`, () => true), 2.55);
    // 0.5 = 2^-1 is the upper edge of its bucket at every scale: an index off by one would put it above 0.5 (1/3).
    assert.equal(await prometheus.waitFor(`histogram_fraction(0, 0.5, ${series})`, () => true), 2 / 3);
    // The median is the second observation, 0.5: Prometheus interpolates inside its bucket. The SDK fits 0.05..2 into
    // 160 buckets at scale 4 (16 buckets per power of two), so that bucket is (2^(-17/16), 2^(-16/16)].
    const median = await prometheus.waitFor(`histogram_quantile(0.5, ${series})`, () => true);
    assert.ok(median > 2 ** (-17 / 16) && median <= 0.5, `median ${median} outside (${2 ** (-17 / 16)}, 0.5]`);
    // Only the native histogram: no classic series of that name.
    assert.equal((await prometheus.query('known_latency_seconds_count')).length, 0, 'no classic series');
    const body = Buffer.from(await (await fetch(`${cli.url}/metrics`, { headers: { accept: PROTOBUF_CONTENT_TYPE } })).arrayBuffer());
    const histogram = decodeFamilies(body).find((f) => f.name === 'known_latency_seconds')?.metric?.[0]?.histogram;
    assert.equal(histogram?.schema, 4);
    assert.deepEqual(histogram.bucket ?? [], []);
  } finally {
    await prometheus.stop();
    cli.signal('SIGTERM');
    await cli.exited;
  }
});

test('two sources with one histogram name and labels, one classic and one exponential: Prometheus 2.42 keeps the native one', {
  timeout: 90_000,
}, async (t) => {
  const binary = requireTool(t, 'prometheus', 'apt-get install prometheus');
  if (!binary) return;
  const sizes = new URL('fixtures/sources/known-sizes.ts', import.meta.url).pathname;
  const dir = await mkdtemp(join(tmpdir(), 'protobuf-'));
  const config = join(dir, 'sources.yaml');
  await writeFile(
    config,
    [
      'sources:',
      `  - { kind: module, name: classic, module: ${sizes} }`,
      `  - { kind: module, name: exponential, module: ${sizes}, histograms: { known_sizes: { aggregation: exponential } } }`,
      '',
    ].join('\n'),
  );
  const cli = await serveCli(['--config.file', config]);
  const prometheus = await startPrometheus(
    binary,
    [{ job_name: 'custom-exporter', scrape_interval: '1s', scrape_timeout: '1s', static_configs: [{ targets: [new URL(cli.url).host] }] }],
    ['--enable-feature=native-histograms'],
  );
  try {
    await prometheus.waitFor('up{job="custom-exporter"}', (v) => v === 1);
    assert.equal(await prometheus.waitFor('histogram_count(known_sizes{disk="a"})', () => true), 4);
    assert.equal(await prometheus.waitFor('histogram_sum(known_sizes{disk="a"})', () => true), 7);
    // 0 (zero bucket) and 1 (the bucket whose upper bound is 1) are at most 1; an index off by one would make it 0.25.
    assert.equal(await prometheus.waitFor('histogram_fraction(0, 1, known_sizes{disk="a"})', () => true), 0.5);
    const body = Buffer.from(await (await fetch(`${cli.url}/metrics`, { headers: { accept: PROTOBUF_CONTENT_TYPE } })).arrayBuffer());
    const series = decodeFamilies(body).find((f) => f.name === 'known_sizes')?.metric;
    assert.equal(series?.length, 1, 'one series with both kinds of buckets');
    assert.deepEqual(
      series[0]?.histogram?.bucket?.map((b) => [b.upperBound, b.cumulativeCount]),
      [
        [1, 2],
        [10, 4],
        [Infinity, 4],
      ],
    );
    assert.equal(series[0]?.histogram?.schema, 6);
    assert.equal((await prometheus.query('known_sizes_count')).length, 0, 'no classic series');
  } finally {
    await prometheus.stop();
    cli.signal('SIGTERM');
    await cli.exited;
  }
});
