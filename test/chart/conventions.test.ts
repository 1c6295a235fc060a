// Issue 10: the value names and behaviours a prometheus-community chart user expects (additionalLabels, a stable
// job label, image registries, namespaceOverride, extraManifests, revisionHistoryLimit) and what happens on a
// cluster without the Prometheus Operator's CRDs.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { chartDir, helm, type Manifest, only, render, templateArgs } from '../support/helm.ts';
import { exporterContainer, podSpecOf } from './k8s.ts';
import { validateStrictly } from './schema-check.ts';
import { scrapeConfigFor } from './scrape-config.ts';

const fullValues = join(chartDir, 'ci', 'full-values.yaml');

interface MonitorView {
  metadata: { namespace: string; labels: Record<string, string> };
  spec: { jobLabel?: string; namespaceSelector: { matchNames: string[] } };
}
const monitor = (manifests: Manifest[]) => only(manifests, 'ServiceMonitor') as unknown as MonitorView;

test('serviceMonitor.additionalLabels label the ServiceMonitor, on top of the release: prometheus default', async () => {
  assert.equal(monitor(await render()).metadata.labels.release, 'prometheus');
  const labels = monitor(
    await render({ set: ['serviceMonitor.additionalLabels.release=kps', 'serviceMonitor.additionalLabels.team=shop'] }),
  ).metadata.labels;
  assert.equal(labels.release, 'kps');
  assert.equal(labels.team, 'shop');
});

test('the deprecated serviceMonitor.labels still apply and win over additionalLabels on the same key', async () => {
  const labels = monitor(await render({ set: ['serviceMonitor.labels.release=old', 'serviceMonitor.labels.team=a'] })).metadata.labels;
  assert.equal(labels.release, 'old', 'an older values file keeps selecting the same Prometheus');
  assert.equal(labels.team, 'a');
});

test('prometheusRule.additionalLabels label the PrometheusRule; its deprecated labels still apply too', async () => {
  const ruleLabels = async (set: string[]) =>
    only(await render({ set: ['prometheusRule.enabled=true', ...set] }), 'PrometheusRule').metadata.labels;
  assert.equal((await ruleLabels([]))?.release, 'prometheus');
  assert.equal((await ruleLabels(['prometheusRule.additionalLabels.release=kps']))?.release, 'kps');
  const old = await ruleLabels(['prometheusRule.labels.release=old', 'prometheusRule.labels.team=a']);
  assert.equal(old?.release, 'old');
  assert.equal(old?.team, 'a');
});

test('job is the chart name for every release (jobLabel app.kubernetes.io/name), or the Service name with jobLabel ""', async () => {
  for (const releaseName of ['orders', 'payments']) {
    const manifests = await render({ releaseName });
    assert.equal(monitor(manifests).spec.jobLabel, 'app.kubernetes.io/name');
    assert.equal(scrapeConfigFor(manifests, '127.0.0.1:9000').scrapeConfig.static_configs[0]?.labels?.job, 'custom-exporter');
  }
  const withNameOverride = await render({ set: ['nameOverride=orders-exporter'] });
  assert.equal(scrapeConfigFor(withNameOverride, '127.0.0.1:9000').scrapeConfig.static_configs[0]?.labels?.job, 'orders-exporter');
  const byService = await render({ releaseName: 'orders', set: ['serviceMonitor.jobLabel='] });
  assert.equal(monitor(byService).spec.jobLabel, undefined);
  assert.equal(scrapeConfigFor(byService, '127.0.0.1:9000').scrapeConfig.static_configs[0]?.labels?.job, 'orders-custom-exporter');
});

test('image.registry prefixes the repository, global.imageRegistry wins over it, for the exporter and the test pod', async () => {
  const images = async (set: string[]) => {
    const manifests = await render({ set });
    return [exporterContainer(only(manifests, 'Deployment')), podSpecOf(only(manifests, 'Pod')).containers[0]].map(
      (c) => (c as { image?: string } | undefined)?.image,
    );
  };
  assert.deepEqual(await images([]), ['custom-exporter:0.1.0', 'custom-exporter:0.1.0']);
  const registry = 'registry.example.com:5000/';
  assert.deepEqual(await images([`image.registry=${registry}`]), Array(2).fill('registry.example.com:5000/custom-exporter:0.1.0'));
  assert.deepEqual(
    await images(['image.registry=registry.example.com', 'global.imageRegistry=mirror.internal/dockerhub']),
    Array(2).fill('mirror.internal/dockerhub/custom-exporter:0.1.0'),
  );
  const result = await helm([...templateArgs(), '--set', 'image.registry=https://registry.example.com']);
  assert.notEqual(result.code, 0, 'a URL is not a registry');
  assert.match(result.stderr, /at '\/image\/registry'/);
});

test('namespaceOverride puts every object in that namespace, and the ServiceMonitor, rules and test pod look there', async () => {
  // ci/full-values.yaml puts the ServiceMonitor, the PrometheusRule and one extra Secret in namespace monitoring.
  const elsewhere = ['ServiceMonitor/metrics-exporter', 'PrometheusRule/metrics-exporter', 'Secret/exporter-basic-auth'];
  for (const valuesFiles of [[], [fullValues]]) {
    const manifests = await render({ valuesFiles, set: ['namespaceOverride=monitoring-apps'], releaseName: 'metrics' });
    for (const manifest of manifests) {
      validateStrictly(manifest);
      const object = `${manifest.kind}/${manifest.metadata.name}`;
      const expected = valuesFiles.length > 0 && elsewhere.includes(object) ? 'monitoring' : 'monitoring-apps';
      assert.equal(manifest.metadata.namespace, expected, object);
    }
    assert.deepEqual(monitor(manifests).spec.namespaceSelector.matchNames, ['monitoring-apps']);
  }
  const defaults = await render({ set: ['namespaceOverride=monitoring-apps', 'prometheusRule.enabled=true'], releaseName: 'metrics' });
  assert.equal(monitor(defaults).metadata.namespace, 'monitoring-apps', 'serviceMonitor.namespace empty: next to the Service');
  const rule = JSON.stringify(only(defaults, 'PrometheusRule'));
  assert.match(rule, /up\{namespace=\\"monitoring-apps\\", service=\\"metrics-custom-exporter\\"\} == 0/);
  const url = podSpecOf(only(defaults, 'Pod')).containers[0]?.env?.find((e) => e.name === 'METRICS_URL')?.value;
  assert.equal(url, 'http://metrics-custom-exporter.monitoring-apps.svc:9000/metrics');
  const invalid = await helm([...templateArgs(), '--set', 'namespaceOverride=Monitoring_Apps']);
  assert.notEqual(invalid.code, 0);
  assert.match(invalid.stderr, /at '\/namespaceOverride'/);
});

test('extraManifests, as objects or strings, are rendered through tpl and validate as Kubernetes objects', async () => {
  const manifests = await render({
    releaseName: 'metrics',
    set: ['namespaceOverride=apps'],
    valuesFiles: [fullValues],
  });
  const dashboards = manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name === 'metrics-exporter-dashboards');
  assert.ok(dashboards, 'the object entry, its name templated from the full name');
  assert.equal(dashboards.metadata.namespace, 'apps');
  assert.deepEqual((dashboards as { data?: Record<string, string> }).data, { release: 'metrics', port: '9000' });
  const credentials = manifests.find((m) => m.kind === 'Secret' && m.metadata.name === 'exporter-basic-auth');
  assert.ok(credentials, 'the string entry');
  assert.equal(credentials.metadata.namespace, 'monitoring', 'next to the ServiceMonitor that reads it');
  for (const manifest of [dashboards, credentials]) validateStrictly(manifest);

  const bad = await helm([...templateArgs(), '--set', 'extraManifests[0]=42']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /at '\/extraManifests\/0'/);
});

test('revisionHistoryLimit is a value (default 5)', async () => {
  const limit = async (set: string[]) =>
    (only(await render({ set }), 'Deployment') as { spec?: { revisionHistoryLimit?: number } }).spec?.revisionHistoryLimit;
  assert.equal(await limit([]), 5);
  assert.equal(await limit(['revisionHistoryLimit=0']), 0);
  const bad = await helm([...templateArgs(), '--set', 'revisionHistoryLimit=-1']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /at '\/revisionHistoryLimit'/);
});

test('without monitoring.coreos.com/v1 the ServiceMonitor and PrometheusRule are left out and the rest renders unchanged', async () => {
  const kinds = (manifests: Manifest[]) => manifests.map((m) => `${m.kind}/${m.metadata.name}`).sort();
  const withOperator = await render({ valuesFiles: [fullValues] });
  assert.ok(withOperator.some((m) => m.kind === 'ServiceMonitor'));
  assert.ok(withOperator.some((m) => m.kind === 'PrometheusRule'));
  const expected = kinds(withOperator.filter((m) => m.kind !== 'ServiceMonitor' && m.kind !== 'PrometheusRule'));
  // The other APIs the chart uses, and none at all: what `helm template` assumes without --api-versions.
  for (const apiVersions of [['policy/v1', 'networking.k8s.io/v1'], []]) {
    const result = await helm(templateArgs({ valuesFiles: [fullValues], apiVersions }));
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stdout, /monitoring\.coreos\.com/);
    const without = await render({ valuesFiles: [fullValues], apiVersions });
    assert.deepEqual(kinds(without), expected);
  }
});
