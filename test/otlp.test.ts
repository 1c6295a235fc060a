import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { type ServingCli, serveCli } from './support/cli.ts';
import { eventually } from './support/eventually.ts';
import { OtlpReceiver, type Protocol, type ReceivedExport } from './support/otlp/receiver.ts';
import { scrape } from './support/scrape.ts';

const INTERVAL_MS = 500;

function pushEnv(receiver: OtlpReceiver, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    OTEL_METRICS_EXPORTER: 'prometheus,otlp',
    OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: receiver.protocol,
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    OTEL_METRIC_EXPORT_INTERVAL: String(INTERVAL_MS),
    OTEL_METRIC_EXPORT_TIMEOUT: '400',
    OTEL_SERVICE_NAME: 'shop-metrics',
    OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test,team=platform',
    ...extra,
  };
}

const counterValue = (e: ReceivedExport) => e.metrics.get('random_number_2')?.points[0]?.value;

/** The pushed counter and the scraped one at (nearly) the same moment differ by at most one tick (1–30). */
async function assertSameCounter(cli: ServingCli, receiver: OtlpReceiver): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const scraped = (await scrape(cli.url)).samples.get('random_number_2_total')!;
    const pushed = counterValue(await receiver.next((e) => counterValue(e) !== undefined))!;
    if (Math.abs(pushed - scraped) <= 30) return;
  }
  assert.fail('the pushed random_number_2 never matched the scraped random_number_2_total within one increment');
}

for (const protocol of ['http/protobuf', 'http/json', 'grpc'] as Protocol[]) {
  describe(`OTLP push over ${protocol}`, () => {
    let receiver: OtlpReceiver;
    let cli: ServingCli;
    after(async () => {
      cli?.signal('SIGKILL');
      await receiver?.close();
    });

    test('the demo metrics arrive with their names, types, units and the resource from OTEL_*', async () => {
      receiver = await (await OtlpReceiver.create(protocol)).listen();
      cli = await serveCli([], { env: pushEnv(receiver) });
      const pushed = await receiver.next((e) => e.metrics.has('random_number') && e.metrics.has('request_processing_seconds'));

      assert.equal(pushed.resource['service.name'], 'shop-metrics');
      assert.equal(pushed.resource['deployment.environment.name'], 'test');
      assert.equal(pushed.resource.team, 'platform');
      assert.ok(pushed.scopes.includes('demo'), `scopes: ${pushed.scopes.join(', ')}`);

      const gauge = pushed.metrics.get('random_number')!;
      assert.equal(gauge.type, 'gauge');
      assert.equal(gauge.description, 'A random number');
      assert.ok(gauge.points[0]!.value >= 1 && gauge.points[0]!.value <= 20);

      const counter = pushed.metrics.get('random_number_2')!;
      assert.equal(counter.type, 'sum');
      assert.equal(counter.monotonic, true);
      assert.equal(counter.temporality, 'AGGREGATION_TEMPORALITY_CUMULATIVE');

      const histogram = pushed.metrics.get('request_processing_seconds')!;
      assert.equal(histogram.type, 'histogram');
      assert.equal(histogram.unit, 's');
      assert.equal(histogram.description, 'Time spent processing request');

      const up = pushed.metrics.get('custom_exporter_source_up')!;
      assert.deepEqual(
        up.points.map((p) => [p.attributes.source, p.value]),
        [['demo', 1]],
      );
    });

    test('the pushed counter equals what /metrics shows at the same moment', async () => {
      await assertSameCounter(cli, receiver);
    });

    test('successful exports are counted', async () => {
      await receiver.next();
      const all = (await scrape(cli.url)).samples;
      assert.ok(all.get('custom_exporter_exports_total{exporter="otlp",outcome="success"}')! >= 1);
    });
  });
}

test('a collector outage: /metrics keeps working, failures are logged and counted, nothing is lost after', {
  timeout: 90_000,
}, async () => {
  const receiver = await OtlpReceiver.create('http/protobuf'); // not listening: connections refused
  const cli = await serveCli([], { env: pushEnv(receiver) });
  try {
    const rss = async () => (await scrape(cli.url)).samples.get('process_resident_memory_bytes')!;
    const rssBefore = await rss();
    const failures = (all: Map<string, number>) => all.get('custom_exporter_exports_total{exporter="otlp",outcome="failure"}') ?? 0;
    // Connections refused: every scrape still answers 200 with the metrics, and the failures add up.
    await eventually(
      async () => {
        const all = (await scrape(cli.url)).samples;
        assert.ok(all.has('random_number'), '/metrics unaffected');
        assert.ok(failures(all) >= 3, `${failures(all)} failed exports counted`);
      },
      { timeoutMs: 30_000, intervalMs: INTERVAL_MS },
    );
    await receiver.listen();
    receiver.failing = true; // now 503s
    // The receiver sees the exports it refuses: none of them is kept.
    await eventually(() => assert.ok(receiver.refused >= 3, `${receiver.refused} exports refused`), { timeoutMs: 30_000 });
    assert.equal(receiver.exports.length, 0);

    const all = (await scrape(cli.url)).samples;
    assert.ok(all.has('random_number'), '/metrics unaffected');
    const logged = cli.logs().filter((l) => l.msg === 'metrics export failed');
    assert.ok(logged.length >= 3, `logged ${logged.length} failures`);
    // Nothing queues up while the collector is away: the SDK drops a failed batch, totals come again next time.
    const growth = (await rss()) - rssBefore;
    assert.ok(growth < 64 * 1024 * 1024, `RSS grew by ${growth} bytes during the outage`);

    receiver.failing = false;
    await assertSameCounter(cli, receiver);
  } finally {
    cli.signal('SIGKILL');
    await receiver.close();
  }
});

test('shutdown flushes a final export', async () => {
  const receiver = await (await OtlpReceiver.create('http/protobuf')).listen();
  // An interval far longer than the test: the only export is the one made on SIGTERM.
  const cli = await serveCli([], { env: pushEnv(receiver, { OTEL_METRIC_EXPORT_INTERVAL: '600000', OTEL_METRIC_EXPORT_TIMEOUT: '5000' }) });
  try {
    const before = (await scrape(cli.url)).samples;
    assert.equal(before.get('custom_exporter_exports_total{exporter="otlp",outcome="success"}') ?? 0, 0, 'no export before SIGTERM');
    cli.signal('SIGTERM');
    assert.equal(await cli.exited, 0);
    assert.equal(receiver.exports.length, 1, 'exactly one export: the final one');
    assert.ok(receiver.exports[0]!.metrics.has('random_number_2'));
  } finally {
    await receiver.close();
  }
});

test('OTEL_METRICS_EXPORTER=otlp alone: no /metrics endpoint, pushes only', async () => {
  const receiver = await (await OtlpReceiver.create('http/protobuf')).listen();
  const cli = await serveCli([], { env: pushEnv(receiver, { OTEL_METRICS_EXPORTER: 'otlp' }) });
  try {
    assert.equal((await fetch(`${cli.url}/metrics`)).status, 404);
    const pushed = await receiver.next((e) => e.metrics.has('random_number'));
    assert.ok(pushed.metrics.has('custom_exporter_build_info'));
  } finally {
    cli.signal('SIGKILL');
    await receiver.close();
  }
});
