import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { ScriptedMetric } from './fixtures/sources/scripted.ts';
import { serveCli } from './support/cli.ts';
import { assertConfigRejects, bothReject } from './support/config-error.ts';
import { family, scrape } from './support/scrape.ts';
import { scriptedSource } from './support/scripted.ts';
import { requireTool } from './support/tools.ts';

const OBSERVED = [0, 0.3, 1, 2, 3, 5, 100];
const histogram = (name: string): ScriptedMetric => ({
  name,
  instrument: 'sync_histogram',
  description: 'Known observations',
  unit: 's',
  points: OBSERVED.map((value) => ({ attributes: { route: '/a' }, value })),
});

/** A config whose global section is `global` (YAML lines), with a scripted source recording OBSERVED into `names`. */
async function config(global: string, names: string[], sourceLines = ''): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'histograms-'));
  const file = join(dir, 'sources.yaml');
  await writeFile(file, `global:\n${global}\nsources:\n${await scriptedSource(dir, 'known', names.map(histogram))}${sourceLines}`);
  return file;
}

/** The `le` → cumulative count pairs of one histogram series. */
function buckets(body: string, name: string): [string, number][] {
  return family(body, `${name}_bucket`).map(([series, value]) => [/le="([^"]*)"/.exec(series)![1]!, value]);
}

function promtoolClean(t: Parameters<typeof requireTool>[0], body: string): void {
  const promtool = requireTool(t, 'promtool', 'apt-get install prometheus');
  if (!promtool) return;
  const lint = spawnSync(promtool, ['check', 'metrics'], { input: body, encoding: 'utf8' });
  assert.equal(lint.status, 0, `promtool: ${lint.stdout}${lint.stderr}\n${body}`);
}

describe('exponential histograms through the built exporter', () => {
  test('global.histograms exponential: /metrics shows classic buckets at the bucket edges, counts as observed', async (t) => {
    // maxScale 0: base 2, so every edge is a power of two and the expected page can be written by hand.
    const cli = await serveCli(['--config.file', await config('  histograms: { aggregation: exponential, maxScale: 0 }', ['latency'])]);
    try {
      const { body } = await scrape(cli.url);
      assert.match(body, /^# TYPE latency_seconds histogram$/m);
      // 0 → zero bucket; 0.3 ∈ (0.25,0.5]; 1 ∈ (0.5,1]; 2 ∈ (1,2]; 3 ∈ (2,4]; 5 ∈ (4,8]; 100 ∈ (64,128].
      assert.deepEqual(buckets(body, 'latency_seconds'), [
        ['0', 1],
        ['0.5', 2],
        ['1', 3],
        ['2', 4],
        ['4', 5],
        ['8', 6],
        ['16', 6],
        ['32', 6],
        ['64', 6],
        ['128', 7],
        ['+Inf', 7],
      ]);
      assert.deepEqual(family(body, 'latency_seconds_count'), [['latency_seconds_count{route="/a"}', 7]]);
      assert.deepEqual(family(body, 'latency_seconds_sum'), [['latency_seconds_sum{route="/a"}', 111.3]]);
      promtoolClean(t, body);
    } finally {
      await cli.kill();
    }
  });

  test('per instrument: the named histogram is exponential at the SDK default scale, the other keeps explicit buckets', async (t) => {
    const file = await config(
      '  histograms: { maxSize: 40 }',
      ['fine', 'plain'],
      '    histograms:\n      fine: { aggregation: exponential }\n',
    );
    const cli = await serveCli(['--config.file', file]);
    try {
      const { body } = await scrape(cli.url);
      const fine = buckets(body, 'fine_seconds');
      // At most maxSize (40) buckets above zero: the SDK lowered the scale to fit 0.3..100 into them.
      assert.ok(fine.length > 3 && fine.length <= 40 + 2, `${fine.length} buckets`);
      for (const [le, cumulative] of fine) {
        const bound = le === '+Inf' ? Infinity : Number(le);
        assert.equal(cumulative, OBSERVED.filter((v) => v <= bound).length, `fine_seconds le=${le}`);
      }
      // The SDK's default explicit boundaries.
      assert.deepEqual(
        buckets(body, 'plain_seconds').map(([le]) => le),
        ['0', '5', '10', '25', '50', '75', '100', '250', '500', '750', '1000', '2500', '5000', '7500', '10000', '+Inf'],
      );
      promtoolClean(t, body);
    } finally {
      await cli.kill();
    }
  });
});

describe('histogram aggregation config errors', () => {
  const cases: [yaml: string, problem: string][] = [
    [
      'global:\n  histograms: { aggregation: native }\nsources:\n  - kind: demo\n',
      'sources.yaml:2:17: global.histograms.aggregation: "native" is not one of explicit, exponential',
    ],
    [
      'global:\n  histograms: { maxSize: 1 }\nsources:\n  - kind: demo\n',
      'sources.yaml:2:17: global.histograms.maxSize: must be at least 2 (an exponential histogram needs two buckets)',
    ],
    [
      'global:\n  histograms: { maxSize: 100000 }\nsources:\n  - kind: demo\n',
      'sources.yaml:2:17: global.histograms.maxSize: must be at most 1024 (each bucket is a line per series in text formats)',
    ],
    [
      'global:\n  histograms: { maxScale: 21 }\nsources:\n  - kind: demo\n',
      'sources.yaml:2:17: global.histograms.maxScale: must be at most 20 (the finest scale OpenTelemetry defines)',
    ],
    [
      'global:\n  histograms: { maxScale: -11 }\nsources:\n  - kind: demo\n',
      'sources.yaml:2:17: global.histograms.maxScale: must be at least -10',
    ],
    [
      'sources:\n  - kind: demo\n    histograms:\n      request_processing_seconds: { aggregation: explicit, maxSize: 10 }\n',
      'sources.yaml:4:7: sources[0].histograms.request_processing_seconds: maxSize and maxScale only apply to aggregation: exponential',
    ],
    [
      'sources:\n  - kind: demo\n    histograms:\n      "request_*": { aggregation: exponential }\n',
      'sources.yaml:4:7: sources[0].histograms.request_*: is not an instrument name (a letter, then letters, digits, _ . - /)',
    ],
  ];
  for (const [yaml, problem] of cases) test(problem, () => assertConfigRejects(yaml, problem));

  test('check-config and startup refuse a bad histogram setting with exit code 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'histograms-'));
    const file = join(dir, 'sources.yaml');
    await writeFile(file, 'global:\n  histograms:\n    aggregation: exponential\n    maxSize: 1\nsources:\n  - kind: demo\n');
    await bothReject(file, /sources\.yaml:4:5: global\.histograms\.maxSize: must be at least 2/);
  });
});

test('a reload that changes global.histograms restarts the sources it applies to, with the new aggregation', async () => {
  const file = await config('  histograms: { aggregation: explicit }', ['latency']);
  const cli = await serveCli(['--config.file', file, '--web.enable-lifecycle']);
  try {
    assert.equal(buckets((await scrape(cli.url)).body, 'latency_seconds')[1]?.[0], '5', 'explicit: the SDK default boundaries');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('aggregation: explicit', 'aggregation: exponential, maxScale: 0'));
    const reloaded = await fetch(`${cli.url}/-/reload`, { method: 'POST' });
    assert.equal(reloaded.status, 200, await reloaded.text());
    assert.deepEqual(
      buckets((await scrape(cli.url)).body, 'latency_seconds').map(([le]) => le),
      ['0', '0.5', '1', '2', '4', '8', '16', '32', '64', '128', '+Inf'],
    );
  } finally {
    await cli.kill();
  }
});
