// values.schema.json turns typos and wrong types into a failed render with the schema's message.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chartDir, helm, templateArgs } from '../support/helm.ts';

async function templateFails(extra: string[]): Promise<string> {
  const result = await helm([...templateArgs(), ...extra]);
  assert.notEqual(result.code, 0, `helm template should fail for ${extra.join(' ')}`);
  assert.match(result.stderr, /values don't meet the specifications of the schema/);
  return result.stderr;
}

test('a wrong type on --set fails with the schema message', async () => {
  const stderr = await templateFails(['--set', 'replicaCount=two']);
  assert.match(stderr, /at '\/replicaCount': got string, want integer/);
});

test('a number where a string is required fails (use --set-string for numeric tags)', async () => {
  const stderr = await templateFails(['--set', 'image.tag=2']);
  assert.match(stderr, /at '\/image\/tag': got number, want string/);
  const ok = await helm([...templateArgs(), '--set-string', 'image.tag=2']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /image: "custom-exporter:2"/);
});

test('a misspelled nested key on --set fails with the schema message', async () => {
  const stderr = await templateFails(['--set', 'serviceMonitor.intervall=1m']);
  assert.match(stderr, /at '\/serviceMonitor': additional properties 'intervall' not allowed/);
});

test('a misspelled top-level key in a values file fails', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'chart-values-'));
  try {
    const file = join(dir, 'typo.yaml');
    await writeFile(file, 'podAnnotation:\n  a: b\n');
    const stderr = await templateFails(['--values', file]);
    assert.match(stderr, /at '': additional properties 'podAnnotation' not allowed/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a value outside its allowed set fails', async () => {
  const stderr = await templateFails(['--set', 'log.level=verbose']);
  assert.match(stderr, /at '\/log\/level': value must be one of 'debug', 'info', 'warn', 'error'/);
});

test('a malformed duration and an unknown config file key fail before reaching the cluster', async () => {
  assert.match(await templateFails(['--set', 'serviceMonitor.interval=30 seconds']), /at '\/serviceMonitor\/interval'/);
  assert.match(await templateFails(['--set', 'config.global.scrapeTimout=5s']), /additional properties 'scrapeTimout' not allowed/);
});

test('helm lint --strict reports the same schema violation', async () => {
  const result = await helm(['lint', '--strict', chartDir, '--set', 'service.prot=9000']);
  assert.notEqual(result.code, 0);
  assert.match(`${result.stdout}${result.stderr}`, /additional properties 'prot' not allowed/);
});
