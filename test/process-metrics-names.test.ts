// Issue 10: the exporter's process_* and nodejs_* metrics claim prom-client compatibility, so Node.js dashboards
// built on prom-client's collectDefaultMetrics must find the same names, types and label names here. The reference
// is the prom-client version in devDependencies, registered in this test process and read from its exposition.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import promClient from 'prom-client';
import { serveCli } from './support/cli.ts';
import { eventually } from './support/eventually.ts';

interface Family {
  type: string;
  labelNames: string[];
}

/** Families of a text exposition (0.0.4): name → TYPE and the sorted label names its samples carry. */
function families(body: string): Map<string, Family> {
  const result = new Map<string, Family>();
  const labels = new Map<string, Set<string>>();
  for (const line of body.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      result.set(type[1]!, { type: type[2]!, labelNames: [] });
      labels.set(type[1]!, new Set());
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? /.exec(line);
    assert.ok(sample, `unparsable sample line: ${line}`);
    const name = sample[1]!;
    const family = [
      name,
      ...['_bucket', '_sum', '_count', '_created'].filter((s) => name.endsWith(s)).map((s) => name.slice(0, -s.length)),
    ].find((candidate) => labels.has(candidate));
    assert.ok(family, `sample ${name} has no # TYPE line`);
    for (const [, label] of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"/g)) {
      if (label !== 'le' && label !== 'quantile') labels.get(family)!.add(label!);
    }
  }
  for (const [name, family] of result) family.labelNames = [...(labels.get(name) ?? [])].sort();
  return result;
}

// The prom-client default-metric modules whose families we provide (prom-client groups them this way: a dashboard
// panel built on one module's metrics needs all of them). Not provided: processHandles, processRequests and
// processResources (active handles, requests, resources) and gc (GC duration histogram from a PerformanceObserver).
const providedModules = [
  'processCpuTotal',
  'processStartTime',
  'osMemoryHeapLinux',
  'processOpenFileDescriptors',
  'processMaxFileDescriptors',
  'eventLoopLag',
  'heapSizeAndUsed',
  'heapSpacesSizeAndUsed',
  'version',
];
const require = createRequire(import.meta.url);
const claimed = providedModules.flatMap(
  (module) => (require(`prom-client/lib/metrics/${module}`) as { metricNames: string[] }).metricNames,
);

/** The families of the exposition `read` returns, read again until every claimed one shows (the event-loop ones need samples first). */
function familiesOnceAllShow(read: () => Promise<string>): Promise<Map<string, Family>> {
  return eventually(async () => {
    const found = families(await read());
    assert.deepEqual(
      claimed.filter((name) => !found.has(name)),
      [],
      'claimed families missing',
    );
    return found;
  });
}

async function promClientFamilies(): Promise<Map<string, Family>> {
  const registry = new promClient.Registry();
  promClient.collectDefaultMetrics({ register: registry });
  return familiesOnceAllShow(() => registry.metrics());
}

async function exporterFamilies(): Promise<Map<string, Family>> {
  const cli = await serveCli();
  try {
    const all = await familiesOnceAllShow(async () => (await fetch(`${cli.url}/metrics`)).text());
    return new Map([...all].filter(([name]) => /^(process|nodejs)_/.test(name)));
  } finally {
    cli.signal('SIGTERM');
    await cli.exited;
  }
}

test('process_* and nodejs_* have the names, types and label names prom-client gives them', {
  skip: process.platform !== 'linux',
}, async () => {
  const [reference, ours] = await Promise.all([promClientFamilies(), exporterFamilies()]);
  assert.ok(ours.size > 0, 'the exporter serves process metrics');
  for (const [name, family] of ours) {
    const expected = reference.get(name);
    assert.ok(expected, `${name} is not a prom-client default metric: rename it with the custom_exporter_ prefix`);
    assert.deepEqual(family, expected, `${name}: type and label names as in prom-client`);
  }
  // No half families: every metric of a module we provide is there, and nothing else under process_/nodejs_.
  assert.deepEqual([...ours.keys()].sort(), [...claimed].sort());
  for (const name of claimed) assert.ok(reference.has(name), `prom-client ${name} is a default metric on this platform`);
});
