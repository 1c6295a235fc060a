import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { startTestExporter } from './support/exporter.ts';
import { scrape } from './support/scrape.ts';
import { requireTool } from './support/tools.ts';

test('promtool check metrics finds nothing to lint in the live exposition', async (t) => {
  const promtool = requireTool(t, 'promtool', 'apt-get install prometheus');
  if (!promtool) return;
  // Every kind of metric we emit: demo gauge, counter and histogram, failing-source self-metrics, process metrics.
  const exporter = await startTestExporter('sources: [{ kind: demo }, { kind: throw, name: flaky }]');
  try {
    await scrape(exporter.url);
    const { body } = await scrape(exporter.url);
    const lint = spawnSync(promtool, ['check', 'metrics'], { input: body, encoding: 'utf8' });
    assert.equal(lint.status, 0, `promtool: ${lint.stdout}${lint.stderr}`);
    assert.match(body, /custom_exporter_source_errors_total\{source="flaky",reason="error"\}/, 'the exposition held every kind of metric');
  } finally {
    await exporter.stop();
  }
});
