// The rendered PrometheusRule's groups are valid Prometheus rules, and its alerts fire (and only fire)
// on the series the ServiceMonitor produces, checked with promtool's rule unit tests.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { only, render } from '../support/helm.ts';
import { requireTool } from '../support/tools.ts';

const run = promisify(execFile);
const target = 'namespace="observability", service="demo-custom-exporter", pod="demo-custom-exporter-abc", job="demo-custom-exporter"';

async function promtool(binary: string, args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(binary, args);
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

test('the rendered alert rules pass promtool check and unit tests', { timeout: 30_000 }, async (t) => {
  const binary = requireTool(t, 'promtool', 'apt-get install prometheus');
  if (!binary) return;
  const rule = only(
    await render({ set: ['prometheusRule.enabled=true', 'prometheusRule.additionalAlertLabels.team=platform'] }),
    'PrometheusRule',
  );
  const groups = (rule as unknown as { spec: { groups: unknown[] } }).spec.groups;

  const dir = await mkdtemp(join(tmpdir(), 'chart-rules-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const rulesFile = join(dir, 'rules.yaml');
  await writeFile(rulesFile, stringify({ groups }));
  const checked = await promtool(binary, ['check', 'rules', rulesFile]);
  assert.equal(checked.code, 0, checked.output);
  assert.match(checked.output, /SUCCESS: 2 rules found/);

  const unitTests = {
    rule_files: [rulesFile],
    evaluation_interval: '1m',
    tests: [
      {
        interval: '1m',
        input_series: [
          { series: `up{${target}}`, values: '1 1 0x10' },
          { series: `custom_exporter_source_up{${target}, source="db"}`, values: '0x15' },
          { series: `custom_exporter_source_up{${target}, source="demo"}`, values: '1x15' },
          // Another release's target must not trigger this release's alerts.
          { series: 'up{namespace="observability", service="other", job="other"}', values: '0x15' },
        ],
        alert_rule_test: [
          { eval_time: '5m', alertname: 'CustomExporterDown', exp_alerts: [] },
          {
            eval_time: '8m',
            alertname: 'CustomExporterDown',
            exp_alerts: [
              {
                exp_labels: {
                  severity: 'critical',
                  team: 'platform',
                  namespace: 'observability',
                  service: 'demo-custom-exporter',
                  pod: 'demo-custom-exporter-abc',
                  job: 'demo-custom-exporter',
                },
                exp_annotations: {
                  summary: 'custom-exporter is down',
                  description: 'Prometheus has failed to scrape demo-custom-exporter-abc (observability/demo-custom-exporter) for 5m.',
                },
              },
            ],
          },
          { eval_time: '9m', alertname: 'CustomExporterSourceDown', exp_alerts: [] },
          {
            eval_time: '11m',
            alertname: 'CustomExporterSourceDown',
            exp_alerts: [
              {
                exp_labels: {
                  severity: 'warning',
                  team: 'platform',
                  source: 'db',
                  namespace: 'observability',
                  service: 'demo-custom-exporter',
                  pod: 'demo-custom-exporter-abc',
                  job: 'demo-custom-exporter',
                },
                exp_annotations: {
                  summary: 'a custom-exporter source is failing',
                  description:
                    'Source db of demo-custom-exporter-abc (observability/demo-custom-exporter) has failed every collection for 10m.',
                },
              },
            ],
          },
        ],
      },
    ],
  };
  const testFile = join(dir, 'rules.test.yaml');
  await writeFile(testFile, stringify(unitTests));
  const tested = await promtool(binary, ['test', 'rules', testFile]);
  assert.equal(tested.code, 0, tested.output);
  assert.match(tested.output, /SUCCESS/);
});

test('each alert can be switched off and its delay set', async () => {
  const rule = only(
    await render({
      set: ['prometheusRule.enabled=true', 'prometheusRule.exporterDown.enabled=false', 'prometheusRule.sourceDown.for=30m'],
    }),
    'PrometheusRule',
  );
  const rules = (rule as unknown as { spec: { groups: { rules: { alert?: string; for?: string }[] }[] } }).spec.groups[0]?.rules;
  assert.deepEqual(
    rules?.map((r) => [r.alert, r.for]),
    [['CustomExporterSourceDown', '30m']],
  );
});
