// What `helm install` prints after installing. `helm install --dry-run=client` renders NOTES as an install does,
// but against helm's built-in API list only (it has no --api-versions), i.e. a cluster without the Prometheus
// Operator. For a cluster with it, the same NOTES.txt is rendered by `helm template --api-versions` from a copy of
// the chart where it is a named template.
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chartDir, helm, monitoringApiVersions } from '../support/helm.ts';
import { variants } from './variants.ts';

async function installNotes(extra: string[] = []): Promise<string> {
  const result = await helm(['install', 'metrics', chartDir, '--namespace', 'observability', '--dry-run=client', ...extra]);
  assert.equal(result.code, 0, result.stderr);
  const start = result.stdout.indexOf('NOTES:');
  assert.ok(start >= 0, 'helm printed NOTES');
  return result.stdout.slice(start);
}

/** NOTES as rendered on a cluster that serves monitoring.coreos.com/v1. */
async function notesWithOperator(extra: string[] = []): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'chart-notes-'));
  try {
    const chart = join(dir, 'custom-exporter');
    await cp(chartDir, chart, { recursive: true });
    const notes = await readFile(join(chart, 'templates', 'NOTES.txt'), 'utf8');
    await writeFile(join(chart, 'templates', '_notes-preview.tpl'), `{{- define "notes-preview" -}}\n${notes}{{- end -}}\n`);
    await writeFile(join(chart, 'templates', 'notes-preview.yaml'), 'notes: {{ include "notes-preview" . | toJson }}\n');
    const args = ['template', 'metrics', chart, '--namespace', 'observability', '--show-only', 'templates/notes-preview.yaml'];
    for (const api of monitoringApiVersions) args.push('--api-versions', api);
    const result = await helm([...args, ...extra]);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout.slice(result.stdout.indexOf('notes: ') + 'notes: '.length)) as string;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('NOTES name the Prometheus target, its job label and the selector labels it needs', async () => {
  const text = await notesWithOperator();
  assert.match(text, /port-forward service\/metrics-custom-exporter 9000:web/);
  assert.match(text, /serviceMonitor\/observability\/metrics-custom-exporter\/0/);
  assert.match(text, /job="custom-exporter"/);
  assert.match(text, /\{"release":"prometheus"\}/);
  assert.match(text, /helm test metrics --namespace observability/);
  assert.doesNotMatch(text, /WARNING|DEPRECATED/);
});

test('NOTES follow jobLabel: empty means the Service name, a Service label its value', async () => {
  assert.match(await notesWithOperator(['--set', 'serviceMonitor.jobLabel=']), /job="metrics-custom-exporter"/);
  assert.match(await notesWithOperator(['--set', 'serviceMonitor.jobLabel=team', '--set', 'service.labels.team=shop']), /job="shop"/);
  assert.match(await notesWithOperator(['--set', 'nameOverride=orders-exporter']), /job="orders-exporter"/);
});

test('NOTES name the overridden namespace for the objects and the release namespace for helm test', async () => {
  const text = await notesWithOperator(['--set', 'namespaceOverride=monitoring']);
  assert.match(text, /--namespace monitoring port-forward service\/metrics-custom-exporter/);
  assert.match(text, /serviceMonitor\/monitoring\/metrics-custom-exporter\/0/);
  assert.match(text, /helm test metrics --namespace observability/);
});

test('the deprecated serviceMonitor.labels and prometheusRule.labels still apply, and NOTES say where to move them', async () => {
  const text = await notesWithOperator(['--set', 'serviceMonitor.labels.release=kps', '--set', 'prometheusRule.labels.team=a']);
  assert.match(text, /these labels: \{"release":"kps"\}/);
  assert.match(text, /DEPRECATED: serviceMonitor\.labels .* move \{"release":"kps"\} to\s+serviceMonitor\.additionalLabels/s);
  assert.match(text, /DEPRECATED: prometheusRule\.labels .* move \{"team":"a"\} to\s+prometheusRule\.additionalLabels/s);
});

test('without the Prometheus Operator CRDs, NOTES warn that nothing scrapes the exporter and say what to do', async () => {
  const text = await installNotes(['--set', 'prometheusRule.enabled=true']);
  assert.match(text, /WARNING: no ServiceMonitor was created/);
  assert.match(text, /does not serve monitoring\.coreos\.com\/v1: the Prometheus Operator's CRDs are not installed/);
  assert.match(
    text,
    /set serviceMonitor\.enabled=false\s+and point your own scrape config at\s+http:\/\/metrics-custom-exporter\.observability\.svc:9000\/metrics/,
  );
  assert.match(text, /WARNING: no PrometheusRule was created/);
  assert.doesNotMatch(text, /serviceMonitor\/observability/);
});

test('NOTES without a ServiceMonitor or config file say how to scrape and what runs', async () => {
  const text = await installNotes(['--values', join(chartDir, 'ci', 'minimal-values.yaml')]);
  assert.match(text, /point your scrape config at\s+http:\/\/metrics-custom-exporter\.observability\.svc:9000\/metrics/);
  assert.match(text, /built-in demo source/);
  assert.doesNotMatch(text, /serviceMonitor\/|WARNING/);
});

for (const variant of variants) {
  test(`${variant.name}: NOTES render with and without the Operator`, async () => {
    const values = variant.valuesFiles.flatMap((file) => ['--values', file]);
    assert.match(await installNotes(values), /is installed as/);
    assert.match(await notesWithOperator(values), /is installed as/);
  });
}

test('NOTES name the PodMonitor, not a missing ServiceMonitor, when podMonitor is on', async () => {
  const text = await notesWithOperator(['--set', 'serviceMonitor.enabled=false', '--set', 'podMonitor.enabled=true']);
  assert.match(text, /A PodMonitor observability\/metrics-custom-exporter asks the Prometheus Operator/);
  assert.match(text, /podMonitorSelector does not match these labels: \{"release":"prometheus"\}/);
  assert.doesNotMatch(text, /No ServiceMonitor was created/);
});

test('without the Prometheus Operator CRDs, NOTES warn that the probes were not created', async () => {
  const text = await installNotes(['--values', join(chartDir, 'ci', 'probes-values.yaml')]);
  assert.match(text, /WARNING: no Probe or PodMonitor was created: probes or podMonitor.enabled are set/);
  const withOperator = await notesWithOperator(['--values', join(chartDir, 'ci', 'probes-values.yaml')]);
  assert.doesNotMatch(withOperator, /no Probe or PodMonitor was created/);
});
