// The chart values example in README "Install on Kubernetes" (issue 13) renders valid objects, and its config
// passes the exporter's check-config.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../support/cli.ts';
import { only, render, repoRoot } from '../support/helm.ts';
import { validateStrictly } from './schema-check.ts';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

test("README's probes and serviceMonitor.endpoints example renders and its config checks", async (t) => {
  const example = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '').find((y) => /^probes:$/m.test(y));
  assert.ok(example, 'README has a chart values example with probes:');
  const dir = await mkdtemp(join(tmpdir(), 'chart-readme-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const valuesFile = join(dir, 'values.yaml');
  await writeFile(valuesFile, example);
  const manifests = await render({ valuesFiles: [valuesFile] });
  for (const manifest of manifests) assert.doesNotThrow(() => validateStrictly(manifest), `${manifest.kind} ${manifest.metadata.name}`);
  const monitor = only(manifests, 'ServiceMonitor') as unknown as { spec: { endpoints: { params?: { source: string[] } }[] } };
  assert.deepEqual(
    monitor.spec.endpoints.map((e) => e.params?.source ?? []),
    [['queue'], ['billing'], []],
  );
  assert.equal(only(manifests, 'Probe').metadata.name, 'demo-custom-exporter-shop');

  const configFile = join(dir, 'config.yaml');
  await writeFile(configFile, (only(manifests, 'ConfigMap') as unknown as { data: Record<string, string> }).data['config.yaml'] ?? '');
  const result = await runCli(['check-config', configFile]);
  assert.equal(result.code, 0, `${result.stdout}${result.stderr}`);
});
