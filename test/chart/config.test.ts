// The exporter's config file: rendered from `config`, mounted, passed with --config.file, rolled on change.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { parse } from 'yaml';
import { globalSchema } from '../../src/config/schema.ts';
import { only, render } from '../support/helm.ts';
import { exporterContainer, flag, podTemplate } from './k8s.ts';

const checksum = async (set: string[]) => podTemplate(only(await render({ set }), 'Deployment')).metadata.annotations?.['checksum/config'];

test('the ConfigMap holds the config value as YAML and the exporter is pointed at it', async () => {
  const manifests = await render();
  const configMap = only(manifests, 'ConfigMap') as unknown as { metadata: { name: string }; data: Record<string, string> };
  const config = parse(configMap.data['config.yaml'] ?? '') as { sources: { name: string; kind: string }[] };
  assert.deepEqual(
    config.sources.map((s) => [s.name, s.kind]),
    [['demo', 'demo']],
  );
  const deployment = only(manifests, 'Deployment');
  const container = exporterContainer(deployment);
  const file = flag(container.args ?? [], '--config.file');
  assert.equal(file, '/etc/custom-exporter/config.yaml');
  const mount = container.volumeMounts?.find((m) => file?.startsWith(`${m.mountPath}/`));
  assert.ok(mount, 'the config file lies under a volume mount');
  const volume = podTemplate(deployment).spec.volumes?.find((v) => v.name === mount.name);
  assert.equal(volume?.configMap?.name, configMap.metadata.name);
});

test('changing the config changes the pod checksum; other values do not', async () => {
  const base = await checksum([]);
  assert.match(base ?? '', /^[0-9a-f]{64}$/);
  assert.notEqual(await checksum(['config.global.seriesLimit=5']), base);
  assert.equal(await checksum(['replicaCount=3']), base);
});

test('without config there is no ConfigMap and no --config.file (built-in demo source)', async () => {
  const manifests = await render({ set: ['config=null'] });
  assert.equal(manifests.filter((m) => m.kind === 'ConfigMap').length, 0);
  const deployment = only(manifests, 'Deployment');
  assert.equal(flag(exporterContainer(deployment).args ?? [], '--config.file'), undefined);
  assert.equal(podTemplate(deployment).spec.volumes, undefined);
});

test('existingConfigMap mounts that ConfigMap instead of rendering one', async () => {
  const manifests = await render({ set: ['existingConfigMap=team-config'] });
  assert.equal(manifests.filter((m) => m.kind === 'ConfigMap').length, 0);
  const deployment = only(manifests, 'Deployment');
  assert.equal(podTemplate(deployment).spec.volumes?.[0]?.configMap?.name, 'team-config');
  assert.equal(flag(exporterContainer(deployment).args ?? [], '--config.file'), '/etc/custom-exporter/config.yaml');
});

test("the chart's schema for config.global takes every global field the exporter knows, and no other", async () => {
  const schema = JSON.parse(await readFile(new URL('../../helm/custom-exporter/values.schema.json', import.meta.url), 'utf8')) as {
    properties: { config: { properties: { global: { properties: Record<string, unknown> } } } };
  };
  const chart = Object.keys(schema.properties.config.properties.global.properties).sort();
  assert.deepEqual(chart, Object.keys(globalSchema.shape).sort());
});
