import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestExporter } from './support/exporter.ts';
import { scrape } from './support/scrape.ts';

async function body(configYaml: string): Promise<string> {
  const exporter = await startTestExporter(configYaml, { exporterMetrics: false });
  try {
    return (await scrape(exporter.url)).body;
  } finally {
    await exporter.stop();
  }
}

test('by default /metrics has target_info and no otel_scope_* labels', async () => {
  const text = await body('sources: [{ kind: demo }]');
  assert.match(text, /^target_info\{service_name="custom-exporter",/m);
  assert.match(text, /^random_number \d+$/m);
  assert.doesNotMatch(text, /otel_scope_/);
});

test('global.scopeLabels adds otel_scope_name (and version) to every series; global.targetInfo: false drops target_info', async () => {
  const text = await body('global: { scopeLabels: true, targetInfo: false }\nsources: [{ kind: demo, name: dice }]');
  assert.doesNotMatch(text, /target_info/);
  assert.match(text, /^random_number\{otel_scope_name="dice"\} \d+$/m);
  assert.match(text, /^custom_exporter_source_up\{source="dice",otel_scope_name="custom-exporter",otel_scope_version="[^"]+"\} 1$/m);
  for (const line of text.split('\n')) if (line !== '' && !line.startsWith('#')) assert.match(line, /otel_scope_name=/, line);
});
