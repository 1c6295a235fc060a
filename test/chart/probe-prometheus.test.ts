// The rendered Probe, turned into the scrape config the Prometheus Operator would generate, probes three
// real local HTTP targets (one down) through the real built exporter, scraped by a real Prometheus.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { chartDir, only, render } from '../support/helm.ts';
import { freePort } from '../support/ports.ts';
import { startPrometheus } from '../support/prometheus.ts';
import { requireTool } from '../support/tools.ts';
import { startChartExporter } from './local-exporter.ts';
import { probeScrapeConfig } from './probe-scrape-config.ts';

async function target(body: string): Promise<Server> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function address(server: Server): string {
  const a = server.address();
  if (a === null || typeof a === 'string') throw new Error('not listening on TCP');
  return `127.0.0.1:${a.port}`;
}

test('a rendered Probe probes each static target through the exporter: probe_success 1/1/0 per instance', {
  timeout: 120_000,
}, async (t) => {
  const binary = requireTool(t, 'prometheus', 'apt-get install prometheus');
  if (!binary) return;

  const up1 = await target('app_queue_depth 3\n');
  t.after(() => up1.close());
  const up2 = await target('app_queue_depth 7\n');
  t.after(() => up2.close());
  const down = `127.0.0.1:${await freePort()}`; // nothing listens there
  const targets = [address(up1), address(up2), down];

  const dir = await mkdtemp(join(tmpdir(), 'chart-probe-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const targetsFile = join(dir, 'targets.yaml');
  await writeFile(
    targetsFile,
    stringify({
      probes: [
        {
          name: 'apps',
          module: 'app_status',
          interval: '2s',
          scrapeTimeout: '2s',
          labels: { team: 'shop' },
          targets,
          relabelings: [{ targetLabel: 'env', replacement: 'ci' }],
          metricRelabelings: [{ sourceLabels: ['__name__'], regex: 'probe_duration_seconds', action: 'drop' }],
        },
      ],
    }),
  );
  const manifests = await render({
    releaseName: 'probing',
    valuesFiles: [join(chartDir, 'ci', 'probes-values.yaml'), targetsFile],
  });

  const probe = only(manifests, 'Probe');
  const exporter = await startChartExporter(manifests);
  t.after(() => exporter.stop());
  const { proberUrl, scrapeConfig } = probeScrapeConfig(probe, new URL(exporter.url).host);
  assert.equal(proberUrl, 'probing-custom-exporter.observability.svc:9000', 'the prober is the chart Service and its port');
  assert.deepEqual(scrapeConfig.params, { module: ['app_status'] });
  assert.equal(scrapeConfig.metrics_path, '/probe');

  const prometheus = await startPrometheus(binary, [scrapeConfig]);
  t.after(() => prometheus.stop());

  for (const [instance, success] of [
    [targets[0], 1],
    [targets[1], 1],
    [down, 0],
  ] as const) {
    await prometheus.waitFor(`probe_success{job="apps", instance="${instance}", team="shop", env="ci"}`, (v) => v === success, 30_000);
  }
  await prometheus.waitFor(`app_queue_depth{instance="${targets[1]}"}`, (v) => v === 7, 10_000);
  // metricRelabelings dropped a series the probe answers carry (positive control: the exporter sends it).
  assert.deepEqual(await prometheus.query('probe_duration_seconds'), []);
  const direct = await fetch(`${exporter.url}/probe?module=app_status&target=${encodeURIComponent(targets[0] ?? '')}`);
  assert.match(await direct.text(), /^probe_duration_seconds /m);
  const series = await prometheus.query('probe_success');
  assert.deepEqual(series.map((s) => s.metric.instance).sort(), [...targets].sort(), 'one series set per target, no more');
  // The exporter's own /metrics is not a probe: it still serves the demo source and no probe_success.
  const own = await (await fetch(`${exporter.url}/metrics`)).text();
  assert.match(own, /custom_exporter_source_up\{[^}]*source="demo"[^}]*\} 1/);
  assert.doesNotMatch(own, /^probe_success/m);
});
