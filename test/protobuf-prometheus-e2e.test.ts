import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { emptyResource } from '@opentelemetry/resources';
import { AggregationType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { PrometheusProtobuf } from '../src/exposition/protobuf-writer.ts';
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

class OnDemandReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

// The exporter's sources get exponential histograms only through the aggregation config (translation branch); until
// that is in this branch, the writer serves a real SDK's exponential histogram from a plain HTTP server here.
test('Prometheus 2.42 ingests the native histograms of the protobuf writer: histogram_count, _sum and _fraction right', {
  timeout: 90_000,
}, async (t) => {
  const binary = requireTool(t, 'prometheus', 'apt-get install prometheus');
  if (!binary) return;
  const reader = new OnDemandReader();
  const provider = new MeterProvider({
    resource: emptyResource(),
    readers: [reader],
    views: [
      { meterName: 'exponential', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 160 } } },
      { meterName: 'classic', aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: [1, 10] } } },
    ],
  });
  // Two scopes, one exponential and one classic histogram of one name: one series with both kinds of buckets.
  for (const scope of ['exponential', 'classic']) {
    const sizes = provider.getMeter(scope).createHistogram('known_sizes');
    for (const value of [0, 1, 2, 4]) sizes.record(value, { disk: 'a' });
  }
  const writer = new PrometheusProtobuf({ scopeLabels: false, targetInfo: false });
  let served: Buffer = Buffer.alloc(0);
  const server = createServer((_req, res) => {
    reader.collect().then(({ resourceMetrics }) => {
      served = writer.serialize(resourceMetrics);
      res.writeHead(200, { 'content-type': PROTOBUF_CONTENT_TYPE });
      res.end(served);
    });
  });
  const target = await listen(server);
  const prometheus = await startPrometheus(
    binary,
    [{ job_name: 'writer', scrape_interval: '1s', scrape_timeout: '1s', static_configs: [{ targets: [target] }] }],
    ['--enable-feature=native-histograms'],
  );
  try {
    await prometheus.waitFor('up{job="writer"}', (v) => v === 1);
    assert.equal(await prometheus.waitFor('histogram_count(known_sizes{disk="a"})', () => true), 4);
    assert.equal(await prometheus.waitFor('histogram_sum(known_sizes{disk="a"})', () => true), 7);
    // 0 (zero bucket) and 1 (the bucket whose upper bound is 1: OTel index -1, Prometheus 0) are at most 1; an index
    // off by one would put 1 above it and make this 0.25.
    assert.equal(await prometheus.waitFor('histogram_fraction(0, 1, known_sizes{disk="a"})', () => true), 0.5);
    // With both kinds of buckets in one series, Prometheus 2.42 stores the native histogram only.
    const [histogram] = decodeFamilies(served).map((f) => f.metric?.[0]?.histogram);
    assert.equal(histogram?.schema, 6);
    assert.equal(histogram.bucket?.length, 3);
    assert.equal((await prometheus.query('known_sizes_count')).length, 0, 'no classic series');
  } finally {
    await prometheus.stop();
    server.close();
    await provider.shutdown();
  }
});
