import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ScriptedMetric } from './fixtures/sources/scripted.ts';
import { runCli, serveCli } from './support/cli.ts';
import { scrape } from './support/scrape.ts';
import { scriptedConfig } from './support/scripted.ts';
import { requireTool } from './support/tools.ts';

const HOSTILE: ScriptedMetric[] = [
  {
    name: 'hostile_labels',
    instrument: 'gauge',
    description: 'Help with a \\ backslash\nand a newline',
    points: [
      { attributes: { '0abc': 'x' }, value: 1 },
      { attributes: { 'a.b': 'x', a_b: 'y' }, value: 2 },
      // Joined in the order of the original keys, whatever order the source gave them in.
      { attributes: { a_b: 'q', 'a-b': 'p', 'a.b': 'r' }, value: 3 },
      { attributes: { quote: 'say "hi"\\ \n bye' }, value: 4 },
      { attributes: { '': 'no name', k: 'v' }, value: 5 },
      { attributes: JSON.parse('{"__proto__":"p"}') as Record<string, unknown>, value: 6 },
      { attributes: { n: 1, b: true, list: [1, 'x'] }, value: 7 },
    ],
  },
  {
    name: 'odd_values',
    instrument: 'gauge',
    points: [
      { attributes: { v: 'inf' }, value: 'Infinity' },
      { attributes: { v: 'minf' }, value: '-Infinity' },
      { attributes: { v: 'negzero' }, value: '-0' },
      { attributes: { v: 'huge' }, value: 1e300 },
      { attributes: { v: 'nan' }, value: 'NaN' },
      { attributes: { v: 'string' }, value: '1 2\nodd_values{v="injected"} 666' },
    ],
  },
  { name: 'latency', instrument: 'sync_histogram', points: [{ attributes: { le: 'mine' }, value: 0.5 }] },
  { name: '9lives.count', instrument: 'sync_counter', points: [{ attributes: {}, value: 2 }] },
  // The histogram writes h_count: a gauge of that name would make the page unparseable.
  { name: 'h', instrument: 'sync_histogram', points: [{ attributes: {}, value: 1 }] },
  { name: 'h_count', instrument: 'gauge', points: [{ attributes: {}, value: 1 }] },
];

test('hostile label names, values, HELP text and numbers from a module source still make a valid exposition', async (t) => {
  const promtool = requireTool(t, 'promtool', 'apt-get install prometheus');
  if (!promtool) return;
  const cli = await serveCli(['--config.file', await scriptedConfig(HOSTILE, 'hostile')]);
  try {
    const { body } = await scrape(cli.url);
    const lint = spawnSync(promtool, ['check', 'metrics'], { input: body, encoding: 'utf8' });
    assert.equal(lint.status, 0, `promtool: ${lint.stdout}${lint.stderr}\n${body}`);
    const lines = body.split('\n');
    for (const line of [
      '# HELP hostile_labels Help with a \\\\ backslash\\nand a newline',
      'hostile_labels{key_0abc="x"} 1',
      'hostile_labels{a_b="x;y"} 2',
      'hostile_labels{a_b="p;r;q"} 3',
      'hostile_labels{quote="say \\"hi\\"\\\\ \\n bye"} 4',
      'hostile_labels{k="v"} 5',
      'hostile_labels{_proto_="p"} 6',
      'hostile_labels{n="1",b="true",list="[1,\\"x\\"]"} 7',
      'odd_values{v="inf"} +Inf',
      'odd_values{v="minf"} -Inf',
      'odd_values{v="negzero"} 0',
      'odd_values{v="huge"} 1e+300',
      'latency_bucket{exported_le="mine",le="5"} 1',
      '_9lives_count_total 2',
      'h_count 1',
      'custom_exporter_source_up{source="hostile"} 1',
    ]) {
      assert.ok(lines.includes(line), `missing ${JSON.stringify(line)} in\n${body}`);
    }
    assert.doesNotMatch(body, /v="nan"|v="string"|injected/, 'NaN and non-numbers are not observations');
    assert.doesNotMatch(body, /TYPE h_count gauge/, 'the gauge clashing with the histogram is dropped');
  } finally {
    cli.signal('SIGTERM');
    await cli.exited;
  }
});

test("a source cannot report the exporter's own metrics (source_up, source_errors_total, build_info, target_info): it fails to start", async () => {
  for (const [name, instrument] of [
    ['custom_exporter_source_up', 'gauge'],
    ['custom.exporter.source.errors', 'sync_counter'],
    ['custom_exporter_build_info', 'sync_gauge'],
    ['target_info', 'gauge'],
  ] as const) {
    const file = await scriptedConfig([{ name, instrument, points: [{ attributes: { source: 'other' }, value: 1 }] }], 'liar');
    const run = await runCli(['--config.file', file, '--log.format=json', '--web.listen-address=127.0.0.1:0']);
    assert.equal(run.code, 2, `${name}: ${run.stderr}`);
    assert.match(
      run.stderr,
      new RegExp(`source \\\\"liar\\\\" .*failed to start: instrument name \\\\"${name}\\\\" is reserved for the exporter's own metrics`),
    );
  }
});

test('an instrument whose name, description or unit is not a string fails its source at setup, instead of every later scrape', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'exposition-options-'));
  for (const [create, reason] of [
    [`meter.createObservableGauge('symbolic', { description: Symbol('help') })`, /instrument \\"symbolic\\": description is not a string/],
    [
      `meter.createCounter('objective', { unit: { toString() { throw new Error('boom'); } } })`,
      /instrument \\"objective\\": unit is not a string/,
    ],
    [`meter.createHistogram({ toString: () => 'named' })`, /instrument name is not a string \(object\)/],
  ] as const) {
    // A module with no imports (its options schema is the one method the config loader calls).
    const module = join(dir, `source-${Math.random().toString(36).slice(2)}.mjs`);
    await writeFile(
      module,
      `export default { kind: 'odd', description: 'odd instrument options', options: { safeParse: (data) => ({ success: true, data }) },\n` +
        `  setup({ meter }) { ${create}; } };\n`,
    );
    const file = join(dir, 'sources.yaml');
    await writeFile(file, `sources:\n  - kind: module\n    name: odd\n    module: ${module}\n`);
    const run = await runCli(['--config.file', file, '--log.format=json', '--web.listen-address=127.0.0.1:0']);
    assert.equal(run.code, 2, `${create}: ${run.stderr}`);
    assert.match(run.stderr, reason);
  }
});
