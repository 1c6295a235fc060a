// What `helm install` prints after installing (rendered with --dry-run=client, no cluster needed).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { chartDir, helm } from '../support/helm.ts';

async function notes(extra: string[] = []): Promise<string> {
  const result = await helm(['install', 'metrics', chartDir, '--namespace', 'observability', '--dry-run=client', ...extra]);
  assert.equal(result.code, 0, result.stderr);
  const start = result.stdout.indexOf('NOTES:');
  assert.ok(start >= 0, 'helm printed NOTES');
  return result.stdout.slice(start);
}

test('NOTES name the Prometheus target and the selector labels it needs', async () => {
  const text = await notes();
  assert.match(text, /port-forward service\/metrics-custom-exporter 9000:web/);
  assert.match(text, /serviceMonitor\/observability\/metrics-custom-exporter\/0/);
  assert.match(text, /job="metrics-custom-exporter"/);
  assert.match(text, /\{"release":"prometheus"\}/);
  assert.match(text, /helm test metrics --namespace observability/);
});

test('NOTES without a ServiceMonitor or config file say how to scrape and what runs', async () => {
  const text = await notes(['--values', join(chartDir, 'ci', 'minimal-values.yaml')]);
  assert.match(text, /point your scrape config at\s+http:\/\/metrics-custom-exporter\.observability\.svc:9000\/metrics/);
  assert.match(text, /built-in demo source/);
  assert.doesNotMatch(text, /serviceMonitor\//);
});
