// The chart's scaling-out objects (issue 13): HPA and the PDB it needs, PodMonitor instead of ServiceMonitor,
// Probe objects, and the schema refusing values that cannot work.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { helm, only, render, templateArgs } from '../support/helm.ts';

async function refused(set: string[]): Promise<string> {
  const result = await helm([...templateArgs(), ...set.flatMap((pair) => ['--set', pair])]);
  assert.notEqual(result.code, 0, `helm template should fail for ${set.join(' ')}`);
  assert.match(result.stderr, /values don't meet the specifications of the schema/);
  return result.stderr;
}

test('autoscaling renders an autoscaling/v2 CPU HPA on the Deployment, drops replicas and adds a PDB', async () => {
  const manifests = await render({ set: ['autoscaling.enabled=true', 'autoscaling.maxReplicas=7'] });
  const deployment = only(manifests, 'Deployment') as unknown as { metadata: { name: string }; spec: { replicas?: number } };
  assert.equal(deployment.spec.replicas, undefined, 'the HPA owns the replica count');
  const hpa = only(manifests, 'HorizontalPodAutoscaler') as unknown as {
    apiVersion: string;
    spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number; maxReplicas: number; metrics: unknown[] };
  };
  assert.equal(hpa.apiVersion, 'autoscaling/v2');
  assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
  assert.deepEqual([hpa.spec.minReplicas, hpa.spec.maxReplicas], [2, 7]);
  assert.deepEqual(hpa.spec.metrics, [
    { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
  ]);
  const pdb = only(manifests, 'PodDisruptionBudget') as unknown as { spec: { maxUnavailable?: number } };
  assert.equal(pdb.spec.maxUnavailable, 1);

  const fixed = await render({ set: ['replicaCount=3'] });
  assert.equal((only(fixed, 'Deployment') as unknown as { spec: { replicas: number } }).spec.replicas, 3);
  assert.equal(
    fixed.some((m) => m.kind === 'HorizontalPodAutoscaler' || m.kind === 'PodDisruptionBudget'),
    false,
  );
});

test('podMonitor replaces the ServiceMonitor with the same labels and endpoints', async () => {
  const manifests = await render({ set: ['serviceMonitor.enabled=false', 'podMonitor.enabled=true'] });
  assert.equal(
    manifests.some((m) => m.kind === 'ServiceMonitor'),
    false,
  );
  const podMonitor = only(manifests, 'PodMonitor') as unknown as {
    metadata: { labels: Record<string, string> };
    spec: { podMetricsEndpoints: { port: string; path: string; interval: string }[]; selector: { matchLabels: Record<string, string> } };
  };
  assert.equal(podMonitor.metadata.labels.release, 'prometheus');
  assert.deepEqual(
    podMonitor.spec.podMetricsEndpoints.map((e) => [e.port, e.path, e.interval]),
    [['web', '/metrics', '30s']],
  );
  const pod = (only(manifests, 'Deployment') as unknown as { spec: { template: { metadata: { labels: Record<string, string> } } } }).spec
    .template.metadata.labels;
  for (const [key, value] of Object.entries(podMonitor.spec.selector.matchLabels)) assert.equal(pod[key], value, key);
});

test('the schema refuses a PodMonitor next to the ServiceMonitor, and malformed probes, endpoints, autoscaling', async () => {
  assert.match(await refused(['podMonitor.enabled=true']), /at '\/serviceMonitor\/enabled': value must be false/);
  assert.match(await refused(['probes[0].name=web', 'probes[0].targets[0]=a:80']), /at '\/probes\/0': missing property 'module'/);
  assert.match(await refused(['probes[0].name=web', 'probes[0].module=m']), /at '\/probes\/0': missing property 'targets'/);
  assert.match(await refused(['probes[0].name=Web_1', 'probes[0].module=m', 'probes[0].targets[0]=a:80']), /at '\/probes\/0\/name'/);
  assert.match(
    await refused(['probes[0].name=web', 'probes[0].module=m', 'probes[0].targets[0]=a:80', 'probes[0].intervall=1m']),
    /additional properties 'intervall' not allowed/,
  );
  assert.match(
    await refused(['serviceMonitor.endpoints[0].sources[0]=demo']),
    /at '\/serviceMonitor\/endpoints\/0': missing property 'name'/,
  );
  assert.match(
    await refused(['serviceMonitor.endpoints[0].name=a', 'serviceMonitor.endpoints[0].interval=5 s']),
    /at '\/serviceMonitor\/endpoints\/0\/interval'/,
  );
  assert.match(await refused(['autoscaling.minReplicas=0']), /at '\/autoscaling\/minReplicas': minimum: got 0, want 1/);
});

test('a Probe is labelled like the ServiceMonitor and probes through the chart Service', async () => {
  const manifests = await render({
    releaseName: 'edge',
    set: [
      'probes[0].name=sites',
      'probes[0].module=page',
      'probes[0].targets[0]=https://a.example/',
      'serviceMonitor.additionalLabels.team=web',
    ],
  });
  const monitor = only(manifests, 'ServiceMonitor');
  const probe = only(manifests, 'Probe') as unknown as {
    metadata: { name: string; labels: Record<string, string> };
    spec: { jobName: string; module: string; prober: { url: string; path: string } };
  };
  assert.equal(probe.metadata.name, 'edge-custom-exporter-sites');
  assert.deepEqual([probe.metadata.labels.release, probe.metadata.labels.team], [monitor.metadata.labels?.release, 'web']);
  assert.deepEqual(probe.spec.prober, { url: 'edge-custom-exporter.observability.svc:9000', path: '/probe', scheme: 'http' });
  assert.deepEqual([probe.spec.jobName, probe.spec.module], ['sites', 'page']);
});

test('autoscaling without a CPU request, or with minReplicas above maxReplicas, fails the render with the reason', async () => {
  const noRequest = await helm([...templateArgs(), '--set', 'autoscaling.enabled=true', '--set', 'resources.requests=null']);
  assert.notEqual(noRequest.code, 0);
  assert.match(noRequest.stderr, /autoscaling.enabled needs resources.requests.cpu/);
  const inverted = await helm([...templateArgs(), '--set', 'autoscaling.enabled=true', '--set', 'autoscaling.minReplicas=6']);
  assert.notEqual(inverted.code, 0);
  assert.match(inverted.stderr, /autoscaling.minReplicas \(6\) must not exceed autoscaling.maxReplicas \(5\)/);
});
