// Every config file the chart renders is accepted by the exporter's own check-config.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../support/cli.ts';
import { find, renderVariant, variants } from './variants.ts';

for (const variant of variants) {
  test(`${variant.name}: the rendered config file passes custom-exporter check-config`, async (t) => {
    const configMap = find(await renderVariant(variant), 'ConfigMap') as unknown as { data: Record<string, string> } | undefined;
    if (!configMap) {
      t.diagnostic('no ConfigMap rendered in this variant');
      return;
    }
    const dir = await mkdtemp(join(tmpdir(), 'chart-config-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'config.yaml');
    await writeFile(file, configMap.data['config.yaml'] ?? '');
    const result = await runCli(['check-config', file]);
    assert.equal(result.code, 0, `${result.stdout}${result.stderr}`);
  });
}

test('check-config rejects a config the chart schema let through but the exporter does not know', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'chart-config-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'config.yaml');
  await writeFile(file, 'sources:\n  - kind: no-such-kind\n');
  const result = await runCli(['check-config', file]);
  assert.equal(result.code, 2, `${result.stdout}${result.stderr}`);
});
