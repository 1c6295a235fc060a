// Issue 11: after SIGTERM the exporter may spend up to 10 s draining in-flight scrapes and then otlp.timeoutSeconds
// on its final push; the pod's terminationGracePeriodSeconds must outlast both, or the kubelet's SIGKILL cuts the
// last push off (the chart used to render 30 s next to a 30 s export timeout).
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { eventually } from '../support/eventually.ts';
import { helm, type Manifest, only, render, templateArgs } from '../support/helm.ts';
import { podTemplate } from './k8s.ts';
import { startChartExporter } from './local-exporter.ts';

const gracePeriodOf = (manifests: Manifest[]) => podTemplate(only(manifests, 'Deployment')).spec.terminationGracePeriodSeconds;
const gracePeriod = async (set: string[]) => gracePeriodOf(await render({ set }));

test('the derived grace period covers the 10 s drain plus the OTLP export timeout, with 5 s to spare', async () => {
  assert.equal(await gracePeriod([]), 30, 'without OTLP: the Kubernetes default, above the 10 s drain');
  assert.equal(await gracePeriod(['otlp.enabled=true']), 45, 'default otlp.timeoutSeconds 30: 10 + 30 + 5');
  assert.equal(await gracePeriod(['otlp.enabled=true', 'otlp.intervalSeconds=120', 'otlp.timeoutSeconds=90']), 105);
  assert.equal(await gracePeriod(['otlp.enabled=true', 'otlp.timeoutSeconds=5']), 30);
  assert.equal(await gracePeriod(['otlp.enabled=true', 'terminationGracePeriodSeconds=120']), 120, 'a long enough value is kept');
});

test('a grace period shorter than the shutdown budget fails the render, naming both numbers', async () => {
  const result = await helm([...templateArgs(), '--set', 'otlp.enabled=true', '--set', 'terminationGracePeriodSeconds=30']);
  assert.notEqual(result.code, 0);
  assert.match(
    result.stderr,
    /terminationGracePeriodSeconds \(30\) must be at least 45: the exporter may need 40 s after SIGTERM \(10 s to drain in-flight scrapes \+ otlp\.timeoutSeconds 30 for the final push\)/,
  );
  const zero = await helm([...templateArgs(), '--set', 'terminationGracePeriodSeconds=0']);
  assert.notEqual(zero.code, 0);
  assert.match(zero.stderr, /at '\/terminationGracePeriodSeconds'/);
});

test('the real exporter, with a scrape in flight and an unanswering collector, exits within the rendered grace period', {
  timeout: 90_000,
}, async (t) => {
  // A collector that accepts connections and never answers: the final push takes its whole timeout.
  const sockets = new Set<Socket>();
  const collector = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    collector.close();
  });
  const { port } = collector.address() as { port: number };

  const dir = await mkdtemp(join(tmpdir(), 'chart-grace-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const started = join(dir, 'started');
  // A source whose first run outlasts the 10 s drain, so the scrape running it is still in flight at SIGTERM; later
  // runs (the final push's collection) answer at once, so the push itself meets the unanswering collector.
  const values = join(dir, 'values.yaml');
  await writeFile(
    values,
    stringify({
      config: {
        sources: [
          {
            name: 'slow',
            kind: 'command',
            command: ['sh', '-c', `if [ -e '${started}' ]; then echo 1; else touch '${started}'; exec sleep 60; fi`],
            output: 'number',
            timeout: '60s',
            metrics: [{ name: 'slow_value' }],
          },
        ],
      },
    }),
  );
  const timeoutSeconds = 20;
  const set = [
    'otlp.enabled=true',
    `otlp.endpoint=http://127.0.0.1:${port}`,
    'otlp.intervalSeconds=60',
    `otlp.timeoutSeconds=${timeoutSeconds}`,
  ];
  const manifests = await render({ set, valuesFiles: [values] });
  const grace = gracePeriodOf(manifests);
  assert.equal(grace, 10 + timeoutSeconds + 5);

  const exporter = await startChartExporter(manifests);
  t.after(() => exporter.signal('SIGKILL'));
  const scrape = fetch(`${exporter.url}/metrics`, { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': '50' } }).then(
    (res) => res.text(),
    (err: unknown) => err,
  );
  await eventually(() => stat(started), { timeoutMs: 10_000, intervalMs: 50 }); // the slow source started

  const sigterm = performance.now();
  exporter.signal('SIGTERM');
  const code = await exporter.exited;
  const seconds = (performance.now() - sigterm) / 1000;
  await scrape;
  t.diagnostic(`exited with ${code} ${seconds.toFixed(1)} s after SIGTERM; grace period ${grace} s`);
  assert.ok(sockets.size > 0, 'the exporter tried its final push');
  // Both parts of the budget were used up: 10 s of drain, then the export timeout ...
  assert.ok(seconds >= 10 + timeoutSeconds - 1, `shutdown took ${seconds} s`);
  // ... and the pod would still not have been killed.
  assert.ok(seconds < grace - 2, `shutdown took ${seconds} s, grace period ${grace} s`);
});
