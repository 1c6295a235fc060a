import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { serveCli } from './support/cli.ts';
import { startJsonTarget } from './support/json-target.ts';
import { startPrometheus } from './support/prometheus.ts';
import { requireTool } from './support/tools.ts';

test('a real Prometheus probes three targets through one exporter with the multi-target relabelling', { timeout: 90_000 }, async (t) => {
  const binary = requireTool(t, 'prometheus', 'apt-get install prometheus');
  if (!binary) return;
  const first = await startJsonTarget({ '/status': () => ({ json: { up: 1, queue: 3 } }) });
  t.after(() => first.close());
  const second = await startJsonTarget({ '/status': () => ({ json: { up: 1, queue: 7 } }) });
  t.after(() => second.close());
  // A port that was just listened on and closed: the third target is down.
  const gone = await startJsonTarget({});
  await gone.close();
  const dir = await mkdtemp(join(tmpdir(), 'probe-e2e-'));
  const config = join(dir, 'probe.yaml');
  await writeFile(
    config,
    `sources: [{ kind: demo }]
modules:
  - name: app
    kind: http
    url: http://target.invalid/status
    metrics: [{ name: app_queue, path: $.queue }]
    allow: { cidrs: [127.0.0.1/32] }
`,
  );
  const exporter = await serveCli([`--config.file=${config}`, '--web.listen-address=127.0.0.1:0']);
  t.after(() => exporter.kill());
  const targets = [first, second, gone].map((s) => new URL(s.url).host);
  const [up1, up2, down] = targets as [string, string, string];
  const exporterAddress = new URL(exporter.url).host;
  const prometheus = await startPrometheus(binary, [
    {
      job_name: 'app',
      metrics_path: '/probe',
      params: { module: ['app'] },
      scrape_interval: '1s',
      scrape_timeout: '1s',
      static_configs: [{ targets }],
      relabel_configs: [
        { source_labels: ['__address__'], target_label: '__param_target' },
        { source_labels: ['__param_target'], target_label: 'instance' },
        { target_label: '__address__', replacement: exporterAddress },
      ],
    },
    { job_name: 'exporter', scrape_interval: '1s', scrape_timeout: '1s', static_configs: [{ targets: [exporterAddress] }] },
  ]);
  t.after(() => prometheus.stop());
  await prometheus.waitFor('count(probe_success{job="app"})', (v) => v === 3, 30_000);
  const success = await prometheus.query('probe_success{job="app"}');
  assert.deepEqual(Object.fromEntries(success.map((s) => [s.metric.instance, Number(s.value[1])])), { [up1]: 1, [up2]: 1, [down]: 0 });
  const queue = await prometheus.query('app_queue{job="app"}');
  assert.deepEqual(Object.fromEntries(queue.map((s) => [s.metric.instance, Number(s.value[1])])), { [up1]: 3, [up2]: 7 });
  const durations = await prometheus.query('probe_duration_seconds{job="app"}');
  assert.equal(durations.length, 3);
  // Every probe scrape answered 200: the down target is probe_success 0, not a failed scrape.
  const scrapeUp = await prometheus.query('up{job="app"}');
  assert.deepEqual(
    scrapeUp.map((s) => s.value[1]),
    ['1', '1', '1'],
  );
  // The exporter's own /metrics (positive control: it is scraped and has the demo) holds none of the module's series.
  await prometheus.waitFor('up{job="exporter"}', (v) => v === 1);
  await prometheus.waitFor('random_number{job="exporter"}', () => true);
  assert.deepEqual(await prometheus.query('{job="exporter", __name__=~"probe_.+|app_queue"}'), []);
  assert.deepEqual(await prometheus.query('custom_exporter_source_up{job="exporter", source="app"}'), []);
  await prometheus.waitFor('custom_exporter_probes_total{job="exporter", module="app", result="failure"}', (v) => v >= 1);
});
