// The `helm test` pod's script, run as the pod would run it (node --input-type=module --eval), against
// a live exporter: it passes on the metrics path and fails on a path that serves no metrics.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { only, render } from '../support/helm.ts';
import { podSpecOf } from './k8s.ts';
import { startChartExporter } from './local-exporter.ts';

const run = promisify(execFile);

async function runTestPod(command: string[], metricsUrl: string): Promise<{ code: number; output: string }> {
  const [program, ...args] = command;
  assert.equal(program, 'node', 'the test pod runs the image node');
  try {
    const { stdout, stderr } = await run(process.execPath, args, { env: { ...process.env, METRICS_URL: metricsUrl }, timeout: 20_000 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

test('the helm test pod passes against a running exporter and fails without metrics', { timeout: 60_000 }, async (t) => {
  const manifests = await render();
  const command = podSpecOf(only(manifests, 'Pod')).containers[0]?.command;
  assert.ok(command);
  const exporter = await startChartExporter(manifests);
  t.after(() => exporter.stop());

  const passed = await runTestPod(command, `${exporter.url}/metrics`);
  assert.equal(passed.code, 0, passed.output);
  assert.match(passed.output, /: 200, \d+ samples/);

  const landing = await runTestPod(command, `${exporter.url}/healthz`);
  assert.equal(landing.code, 1, landing.output);
  assert.match(landing.output, /without custom_exporter_ metrics/);

  const missing = await runTestPod(command, `${exporter.url}/no-such-path`);
  assert.equal(missing.code, 1, missing.output);
});
