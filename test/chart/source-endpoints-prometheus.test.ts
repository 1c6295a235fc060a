// Two ServiceMonitor endpoints with different intervals and `source=` selections, turned into the scrape
// configs the Operator would generate: a real Prometheus scrapes each selection at its own interval and each
// job sees its own source only.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { eventually } from '../support/eventually.ts';
import { chartDir, render } from '../support/helm.ts';
import { startPrometheus } from '../support/prometheus.ts';
import { requireTool } from '../support/tools.ts';
import { startChartExporter } from './local-exporter.ts';
import { scrapeConfigFor } from './scrape-config.ts';

interface CountingServer {
  server: Server;
  url: string;
  requests: number;
}

async function countingServer(body: string): Promise<CountingServer> {
  const counting = { requests: 0 } as CountingServer;
  counting.server = createServer((_req, res) => {
    counting.requests++;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(body);
  });
  await new Promise<void>((resolve) => counting.server.listen(0, '127.0.0.1', resolve));
  const address = counting.server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening on TCP');
  counting.url = `http://127.0.0.1:${address.port}/metrics`;
  return counting;
}

test('two ServiceMonitor endpoints scrape their own sources at their own intervals', { timeout: 120_000 }, async (t) => {
  const binary = requireTool(t, 'prometheus', 'apt-get install prometheus');
  if (!binary) return;

  const cheap = await countingServer('cheap_value 1\n');
  t.after(() => cheap.server.close());
  const expensive = await countingServer('expensive_value 2\n');
  t.after(() => expensive.server.close());

  const dir = await mkdtemp(join(tmpdir(), 'chart-endpoints-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const urlsFile = join(dir, 'urls.yaml');
  await writeFile(
    urlsFile,
    stringify({
      config: {
        sources: [
          { name: 'cheap', kind: 'http', url: cheap.url, output: 'prometheus' },
          { name: 'expensive', kind: 'http', url: expensive.url, output: 'prometheus', timeout: '3s' },
        ],
      },
    }),
  );
  const manifests = await render({
    releaseName: 'split',
    valuesFiles: [join(chartDir, 'ci', 'source-endpoints-values.yaml'), urlsFile],
  });
  const exporter = await startChartExporter(manifests);
  t.after(() => exporter.stop());
  const host = new URL(exporter.url).host;
  const cheapJob = scrapeConfigFor(manifests, host, 0).scrapeConfig;
  const expensiveJob = scrapeConfigFor(manifests, host, 1).scrapeConfig;
  assert.deepEqual(cheapJob.params, { source: ['cheap'] });
  assert.deepEqual([cheapJob.scrape_interval, expensiveJob.scrape_interval], ['1s', '4s']);

  const prometheus = await startPrometheus(binary, [cheapJob, expensiveJob]);
  t.after(() => prometheus.stop());

  await prometheus.waitFor('cheap_value{endpoint="cheap"}', (v) => v === 1, 20_000);
  await prometheus.waitFor('expensive_value{endpoint="expensive"}', (v) => v === 2, 20_000);
  // Each job holds its own source only, and its own `up`: the endpoint label keeps the two targets apart.
  assert.deepEqual(await prometheus.query('cheap_value{endpoint!="cheap"}'), []);
  assert.deepEqual(await prometheus.query('expensive_value{endpoint!="expensive"}'), []);
  assert.deepEqual((await prometheus.query('up')).map((s) => `${s.metric.endpoint}=${s.value[1]}`).sort(), ['cheap=1', 'expensive=1']);

  // A selection runs only its source: the cheap endpoint (1 s) fetches its target far more often than the
  // expensive one (4 s) does. Wait until the expensive target has seen 3 scrapes (at least 8 s).
  await eventually(() => assert.ok(expensive.requests >= 3, `expensive fetched ${expensive.requests} times`), { timeoutMs: 30_000 });
  assert.ok(cheap.requests >= 2 * expensive.requests, `cheap ${cheap.requests} vs expensive ${expensive.requests} fetches`);
});
