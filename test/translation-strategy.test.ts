import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { ScriptedMetric } from './fixtures/sources/scripted.ts';
import { serveCli } from './support/cli.ts';
import { assertConfigRejects, bothReject } from './support/config-error.ts';
import { scrape } from './support/scrape.ts';
import { scriptedSource } from './support/scripted.ts';
import { requireTool } from './support/tools.ts';

// OpenTelemetry names with units, as a source reports them; what /metrics of the built exporter calls them under
// each global.translationStrategy (text 0.0.4: the format escapes what is left to `_`).
const METRICS: ScriptedMetric[] = [
  { name: 'io', instrument: 'counter', unit: 'By', points: [{ attributes: { 'net.dir': 'in' }, value: 5 }] },
  { name: 'http.server.active', instrument: 'updowncounter', unit: '{request}', points: [{ attributes: {}, value: 2 }] },
  { name: 'cpu.util', instrument: 'gauge', unit: '1', points: [{ attributes: {}, value: 0.5 }] },
  { name: 'rpc.duration', instrument: 'sync_histogram', unit: 's', points: [{ attributes: {}, value: 3 }] },
  { name: 'queue.rate', instrument: 'gauge', unit: '{job}/s', points: [{ attributes: {}, value: 7 }] },
  { name: 'uptime_seconds', instrument: 'gauge', unit: 's', points: [{ attributes: {}, value: 9 }] },
];

const EXPECTED: Record<string, string[]> = {
  UnderscoreEscapingWithSuffixes: [
    'counter io_bytes_total',
    'gauge http_server_active',
    'gauge cpu_util_ratio',
    'histogram rpc_duration_seconds',
    'gauge queue_rate_per_second',
    'gauge uptime_seconds',
  ],
  UnderscoreEscapingWithoutSuffixes: [
    'counter io',
    'gauge http_server_active',
    'gauge cpu_util',
    'histogram rpc_duration',
    'gauge queue_rate',
    'gauge uptime_seconds',
  ],
  // Text 0.0.4 has no UTF-8 names: the dots the strategy keeps are escaped by the format.
  NoUTF8EscapingWithSuffixes: [
    'counter io_bytes_total',
    'gauge http_server_active',
    'gauge cpu_util_ratio',
    'histogram rpc_duration_seconds',
    'gauge queue_rate_per_second',
    'gauge uptime_seconds',
  ],
  NoTranslation: [
    'counter io',
    'gauge http_server_active',
    'gauge cpu_util',
    'histogram rpc_duration',
    'gauge queue_rate',
    'gauge uptime_seconds',
  ],
};

async function configFile(global: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'translation-'));
  const file = join(dir, 'sources.yaml');
  await writeFile(file, `${global}sources:\n${await scriptedSource(dir, 'units', METRICS)}`);
  return file;
}

describe('global.translationStrategy through the built exporter', () => {
  for (const [strategy, families] of Object.entries(EXPECTED)) {
    const isDefault = strategy === 'UnderscoreEscapingWithSuffixes';
    test(`${strategy}${isDefault ? ' (the default, not set)' : ''}`, async (t) => {
      const cli = await serveCli(['--config.file', await configFile(isDefault ? '' : `global:\n  translationStrategy: ${strategy}\n`)]);
      try {
        const { body } = await scrape(cli.url);
        const types = [...body.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => `${type} ${name}`);
        for (const family of families) assert.ok(types.includes(family), `${family} not in\n${types.join('\n')}`);
        // The exporter's own metrics keep their names under every strategy: the catalog names carry their units.
        for (const own of [
          'gauge custom_exporter_source_duration_seconds',
          'counter process_cpu_seconds_total',
          'gauge process_resident_memory_bytes',
        ])
          assert.ok(types.includes(own), `${own} not in\n${types.join('\n')}`);
        assert.match(body, /^io(_bytes_total)?\{net_dir="in"\} 5$/m, 'attribute keys are escaped for text 0.0.4');
        const promtool = requireTool(t, 'promtool', 'apt-get install prometheus');
        if (!promtool) return;
        const lint = spawnSync(promtool, ['check', 'metrics'], { input: body, encoding: 'utf8' });
        // 0: clean; 3: lint findings only (a counter without _total under the strategies without suffixes).
        assert.ok(lint.status === 0 || (lint.status === 3 && !isDefault), `promtool ${lint.status}: ${lint.stdout}${lint.stderr}`);
      } finally {
        await cli.kill();
      }
    });
  }
});

test('a translationStrategy that is not one of the four is refused, naming them', async () => {
  const problem =
    'sources.yaml:2:3: global.translationStrategy: "UnderscoreEscaping" is not one of UnderscoreEscapingWithSuffixes, UnderscoreEscapingWithoutSuffixes, NoUTF8EscapingWithSuffixes, NoTranslation';
  assertConfigRejects('global:\n  translationStrategy: UnderscoreEscaping\nsources:\n  - kind: demo\n', problem);
  const dir = await mkdtemp(join(tmpdir(), 'translation-'));
  const file = join(dir, 'sources.yaml');
  await writeFile(file, 'global:\n  translationStrategy: UnderscoreEscaping\nsources:\n  - kind: demo\n');
  await bothReject(
    file,
    /sources\.yaml:2:\d+: global\.translationStrategy: "UnderscoreEscaping" is not one of UnderscoreEscapingWithSuffixes, /,
  );
});
