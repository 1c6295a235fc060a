import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PROCESS_METRICS, SELF_METRICS, type SelfMetric } from '../src/telemetry/self-metrics.ts';
import { eventually } from './support/eventually.ts';
import { startTestExporter } from './support/exporter.ts';
import { startPostgres } from './support/postgres.ts';

const CATALOG: readonly SelfMetric[] = Object.values(SELF_METRICS);
const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** The name Prometheus shows: counters get `_total`. */
const exposedName = (metric: SelfMetric) => (metric.kind === 'counter' ? `${metric.name}_total` : metric.name);

/** Every family of the exporter's own metrics in an exposition: its help, and the label names of its series. */
function selfFamilies(body: string): Map<string, { help: string | undefined; labels: Set<string> }> {
  const families = new Map<string, { help: string | undefined; labels: Set<string> }>();
  const family = (name: string) => families.get(name) ?? families.set(name, { help: undefined, labels: new Set() }).get(name)!;
  for (const line of body.split('\n')) {
    const help = /^# HELP ((?:custom_exporter|process|nodejs)_\w+) (.*)$/.exec(line);
    if (help) family(help[1]!).help = help[2];
    const sample = /^((?:custom_exporter|process|nodejs)_\w+?)(?:\{(.*)\})? \S+$/.exec(line);
    if (sample) for (const [, label] of (sample[2] ?? '').matchAll(/(\w+)="/g)) family(sample[1]!).labels.add(label!);
  }
  return families;
}

test('every custom_exporter_*, process_* and nodejs_* metric on /metrics is one of the catalog, with its help and labels, and every one shows up', async () => {
  const target = createServer((_req, res) => res.end('{"open": 3}')).listen(0, '127.0.0.1');
  await new Promise((resolve) => target.once('listening', resolve));
  const url = `http://127.0.0.1:${(target.address() as AddressInfo).port}/`;
  const dir = await mkdtemp(join(tmpdir(), 'self-metrics-'));
  await writeFile(join(dir, 'report.json'), '{"ok": 1}');
  await writeFile(join(dir, 'cron.prom'), 'cron_ok 1\n');
  // One query that works and one that fails, for every custom_exporter_sql_* series.
  const db = await startPostgres();
  const dsn = `postgres://${db.user}:${db.password}@127.0.0.1:${db.port}/${db.database}`;
  const exporter = await startTestExporter(
    [
      'sources:',
      `  - { kind: http, name: shop, url: "${url}", metrics: [{ name: shop_open, path: $.open }] }`,
      `  - { kind: command, name: backups, command: [echo, "2"], output: number, metrics: [{ name: backups_ok }] }`,
      `  - { kind: file, name: report, path: ${join(dir, 'report.json')}, metrics: [{ name: report_ok, path: $.ok }] }`,
      `  - { kind: file, name: absent, path: ${join(dir, 'absent.json')}, metrics: [{ name: absent_ok }] }`,
      `  - { kind: textfile, name: cron, path: ${join(dir, '*.prom')} }`,
      `  - { kind: sql, name: db, driver: postgres, dsn: "${dsn}", queries: [{ name: ok, sql: SELECT 1 AS v, metrics: [{ name: db_ok, value: v }] }, { name: broken, sql: SELEC, metrics: [{ name: db_broken, value: v }] }] }`,
    ].join('\n'),
    // A push exporter that cannot reach its collector, so custom_exporter_exports_total has series too.
    {
      env: {
        OTEL_METRICS_EXPORTER: 'prometheus,otlp',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
        OTEL_METRIC_EXPORT_INTERVAL: '200',
        OTEL_METRIC_EXPORT_TIMEOUT: '100',
      },
    },
  );
  try {
    const expected = new Map([...CATALOG, ...Object.values(PROCESS_METRICS)].map((m) => [exposedName(m), m]));
    // The first scrape answers before it is counted, and pushes fail only after their timeout: scrape until all show.
    const families = await eventually(async () => {
      const families = selfFamilies(await (await fetch(`${exporter.url}/metrics`)).text());
      const missing = [...expected.keys()].filter((name) => !families.get(name)?.labels.size && expected.get(name)!.labels.length > 0);
      assert.deepEqual(missing, [], 'missing');
      return families;
    });
    assert.deepEqual([...families.keys()].sort(), [...expected.keys()].sort());
    for (const [name, { help, labels }] of families) {
      const metric = expected.get(name)!;
      assert.equal(help, metric.description, `help of ${name}`);
      assert.deepEqual([...labels].sort(), [...metric.labels].sort(), `labels of ${name}`);
    }
  } finally {
    await exporter.stop();
    await db.stop();
    target.close();
  }
});

test("the README's table of the exporter's own metrics lists the catalog, with its labels", () => {
  const section = README.slice(README.indexOf("### The exporter's own metrics"));
  const rows = [
    ...section.slice(0, section.indexOf('\n\n', section.indexOf('| metric |'))).matchAll(/^\| `(custom_exporter_\w+)` \|([^|]*)\|/gm),
  ];
  assert.deepEqual(
    rows.map(([, name, labels]) => [name, [...labels!.matchAll(/`(\w+)`/g)].map((l) => l[1])]),
    CATALOG.map((m) => [exposedName(m), [...m.labels]]),
  );
});
