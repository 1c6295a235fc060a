// What README "Scaling out" claims about replicas, shown with two exporters started from one rendered release
// (two pods of the Deployment): a scrape-mode source fetches only when its replica is scraped, an interval-mode
// source polls once per replica, and either replica answers the same probe.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { eventually } from '../support/eventually.ts';
import { render } from '../support/helm.ts';
import { startChartExporter } from './local-exporter.ts';

interface NumberingServer {
  server: Server;
  url: string;
  requests: number;
}

/** Answers each request with its own number, so an exporter's series shows which request it came from. */
async function numberingServer(name: string): Promise<NumberingServer> {
  const numbering = { requests: 0 } as NumberingServer;
  numbering.server = createServer((_req, res) => {
    numbering.requests++;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(`${name}_request ${numbering.requests}\n`);
  });
  await new Promise<void>((resolve) => numbering.server.listen(0, '127.0.0.1', resolve));
  const address = numbering.server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening on TCP');
  numbering.url = `http://127.0.0.1:${address.port}/metrics`;
  return numbering;
}

function sample(text: string, name: string): number | undefined {
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

test('two replicas: scrape-mode fetches only when scraped, interval-mode polls in each replica, probes answer anywhere', {
  timeout: 90_000,
}, async (t) => {
  const onScrape = await numberingServer('on_scrape');
  t.after(() => onScrape.server.close());
  const polled = await numberingServer('polled');
  t.after(() => polled.server.close());

  const dir = await mkdtemp(join(tmpdir(), 'chart-replicas-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const valuesFile = join(dir, 'values.yaml');
  await writeFile(
    valuesFile,
    stringify({
      autoscaling: { enabled: true },
      config: {
        sources: [
          { name: 'on_scrape', kind: 'http', url: onScrape.url, output: 'prometheus' },
          { name: 'polled', kind: 'http', url: polled.url, output: 'prometheus', mode: 'interval', interval: '1s' },
        ],
        modules: [
          { name: 'peer', kind: 'http', url: 'http://target.invalid/metrics', output: 'prometheus', allow: { cidrs: ['127.0.0.0/8'] } },
        ],
      },
    }),
  );
  const manifests = await render({ releaseName: 'scaled', valuesFiles: [valuesFile] });
  const replicas = [await startChartExporter(manifests), await startChartExporter(manifests)];
  for (const replica of replicas) t.after(() => replica.stop());

  // Interval mode: each replica polls on its own, unscraped; together they fetch at least twice per interval.
  await eventually(() => assert.ok(polled.requests >= 4, `polled fetched ${polled.requests} times`), { timeoutMs: 20_000 });
  const answers = await Promise.all(replicas.map(async (r) => (await fetch(`${r.url}/metrics?source=polled`)).text()));
  const seen = answers.map((text) => sample(text, 'polled_request'));
  assert.ok(
    seen.every((n) => n !== undefined),
    `both replicas export their own poll: ${seen.join(', ')}`,
  );
  assert.notEqual(seen[0], seen[1], 'two replicas, two different polls of the same target');

  // Scrape mode: nothing fetched until a replica is scraped, then one fetch for that one scrape.
  assert.equal(onScrape.requests, 0, 'no scrape yet, no fetch');
  const first = await (await fetch(`${replicas[0]?.url}/metrics?source=on_scrape`)).text();
  assert.equal(sample(first, 'on_scrape_request'), 1);
  assert.equal(onScrape.requests, 1, 'the other replica fetched nothing');

  // Probes are stateless: whichever replica the Service picks answers the same probe.
  for (const replica of replicas) {
    const probe = await (await fetch(`${replica.url}/probe?module=peer&target=${encodeURIComponent(new URL(onScrape.url).host)}`)).text();
    assert.equal(sample(probe, 'probe_success'), 1, probe);
  }
});
