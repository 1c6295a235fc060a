import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { serveCli } from './support/cli.ts';
import { decodeFamilies, knownObservationsConfig, PROTOBUF_CONTENT_TYPE } from './support/protobuf-exposition.ts';

// What Prometheus 2.42 sends with --enable-feature=native-histograms (scrape/scrape.go, scrapeAcceptHeaderWithProtobuf).
const PROMETHEUS_ACCEPT =
  'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

test('the built exporter answers a protobuf Accept with delimited MetricFamily messages, gzipped when asked', async () => {
  const cli = await serveCli(['--config.file', await knownObservationsConfig()]);
  try {
    const plain = await fetch(`${cli.url}/metrics`, { headers: { accept: PROMETHEUS_ACCEPT } });
    assert.equal(plain.status, 200);
    assert.equal(plain.headers.get('content-type'), `${PROTOBUF_CONTENT_TYPE}; escaping=underscores`);
    const families = decodeFamilies(Buffer.from(await plain.arrayBuffer()));
    const events = families.find((f) => f.name === 'known_events_total');
    assert.equal(events?.type, 'COUNTER');
    assert.deepEqual(events.metric?.[0]?.label, [{ name: 'kind', value: 'test' }]);
    assert.equal(events.metric?.[0]?.counter?.value, 42);
    assert.ok(events.metric?.[0]?.counter?.createdTimestamp?.seconds, 'created timestamp of the counter');
    const latency = families.find((f) => f.name === 'known_latency_seconds');
    assert.equal(latency?.type, 'HISTOGRAM');
    assert.deepEqual(
      latency.metric?.[0]?.histogram?.bucket?.map((b) => [b.upperBound, b.cumulativeCount]),
      [
        [0.1, 1],
        [1, 2],
        [Infinity, 3],
      ],
    );
    assert.ok(
      families.some((f) => f.name === 'custom_exporter_source_up' && f.metric?.[0]?.gauge?.value === 1),
      'the exporter reports about its sources in the same body',
    );

    // node:http, not fetch: fetch would undo the gzip itself.
    const gzipped = await new Promise<{ encoding: string | undefined; body: Buffer }>((resolve, reject) => {
      const req = request(`${cli.url}/metrics`, { headers: { accept: PROMETHEUS_ACCEPT, 'accept-encoding': 'gzip' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('end', () => resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }));
      });
      req.once('error', reject);
      req.end();
    });
    assert.equal(gzipped.encoding, 'gzip');
    const again = decodeFamilies(gunzipSync(gzipped.body));
    assert.equal(again.find((f) => f.name === 'known_events_total')?.metric?.[0]?.counter?.value, 42);
    assert.deepEqual(again.find((f) => f.name === 'known_latency_seconds')?.metric, latency.metric);
  } finally {
    cli.signal('SIGTERM');
    await cli.exited;
  }
});
