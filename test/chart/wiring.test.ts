// The objects point at each other correctly: ServiceMonitor → Service → pod port, probes → exporter routes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import type { Manifest } from '../support/helm.ts';
import { exporterContainer, flag, podSpecOf, podTemplate, selects } from './k8s.ts';
import { find, renderVariant, variants } from './variants.ts';

interface ServiceView {
  metadata: { name: string; labels: Record<string, string> };
  spec: { selector: Record<string, string>; ports: { name: string; port: number; targetPort: string | number }[] };
}
interface ServiceMonitorView {
  metadata: { namespace: string; labels: Record<string, string> };
  spec: {
    selector: { matchLabels: Record<string, string> };
    namespaceSelector?: { matchNames?: string[] };
    endpoints: { port?: string; path?: string; scheme?: string }[];
  };
}

const service = (m: Manifest[]) => find(m, 'Service') as unknown as ServiceView;

/** Whether the exporter serves TLS, read from the web config the chart renders into its Secret. */
function servesTls(manifests: Manifest[]): boolean {
  const secret = manifests.find((m) => m.kind === 'Secret' && (m as { stringData?: Record<string, string> }).stringData?.['web.yml']);
  const webYml = (secret as { stringData?: Record<string, string> } | undefined)?.stringData?.['web.yml'];
  return webYml !== undefined && (parse(webYml) as Record<string, unknown>).tls_server_config !== undefined;
}

for (const variant of variants) {
  test(`${variant.name}: the Service selects the exporter pods and targets the container port`, async () => {
    const manifests = await renderVariant(variant);
    const deployment = find(manifests, 'Deployment');
    assert.ok(deployment);
    const template = podTemplate(deployment);
    const svc = service(manifests);
    assert.ok(selects(svc.spec.selector, template.metadata.labels), 'Service selector matches the pod labels');
    const selector = (deployment as unknown as { spec: { selector: { matchLabels: Record<string, string> } } }).spec.selector;
    assert.ok(selects(selector.matchLabels, template.metadata.labels), 'Deployment selector matches its pod labels');

    const web = svc.spec.ports.find((p) => p.name === 'web');
    assert.ok(web, 'the Service has a port named web');
    const container = exporterContainer(deployment);
    const port = container.ports?.find((p) => p.name === web.targetPort || p.containerPort === web.targetPort);
    assert.ok(port, `Service targetPort ${web.targetPort} is a container port`);
    const listen = flag(container.args ?? [], '--web.listen-address');
    assert.equal(listen, `:${port.containerPort}`, 'the exporter listens on the container port');
  });

  test(`${variant.name}: probes hit /healthz and /readyz on the web port`, async () => {
    const deployment = find(await renderVariant(variant), 'Deployment');
    assert.ok(deployment);
    const container = exporterContainer(deployment);
    // kubelet does not verify certificates, but it must speak TLS to a TLS port.
    const scheme = servesTls(await renderVariant(variant)) ? { scheme: 'HTTPS' } : {};
    assert.deepEqual(container.livenessProbe?.httpGet, { path: '/healthz', port: 'web', ...scheme });
    assert.deepEqual(container.readinessProbe?.httpGet, { path: '/readyz', port: 'web', ...scheme });
  });

  test(`${variant.name}: the ServiceMonitor finds the Service and scrapes the exporter's metrics path`, async (t) => {
    const manifests = await renderVariant(variant);
    const monitor = find(manifests, 'ServiceMonitor') as unknown as ServiceMonitorView | undefined;
    if (!monitor) {
      t.diagnostic('ServiceMonitor disabled in this variant');
      return;
    }
    const svc = service(manifests);
    assert.ok(selects(monitor.spec.selector.matchLabels, svc.metadata.labels), 'selector matches the Service labels');
    assert.deepEqual(monitor.spec.namespaceSelector?.matchNames, ['observability'], 'looks in the release namespace');
    const deployment = find(manifests, 'Deployment');
    assert.ok(deployment);
    const telemetryPath = flag(exporterContainer(deployment).args ?? [], '--web.telemetry-path');
    for (const endpoint of monitor.spec.endpoints) {
      assert.ok(
        svc.spec.ports.some((p) => p.name === endpoint.port),
        `endpoint port ${endpoint.port} exists on the Service`,
      );
      assert.equal(endpoint.path, telemetryPath, 'endpoint path is the exporter telemetry path');
      assert.equal(endpoint.scheme, servesTls(manifests) ? 'https' : 'http', 'endpoint scheme matches what the exporter serves');
    }
  });

  test(`${variant.name}: the helm test pod is not selected by the Service and fetches the metrics path`, async (t) => {
    const manifests = await renderVariant(variant);
    const pod = find(manifests, 'Pod');
    if (!pod) {
      t.diagnostic('helm test disabled in this variant');
      return;
    }
    assert.equal(pod.metadata.annotations?.['helm.sh/hook'], 'test');
    assert.ok(!selects(service(manifests).spec.selector, pod.metadata.labels), 'Service does not select the test pod');
    const url = podSpecOf(pod).containers[0]?.env?.find((e) => e.name === 'METRICS_URL')?.value;
    const svc = service(manifests);
    const deployment = find(manifests, 'Deployment');
    assert.ok(deployment);
    const path = flag(exporterContainer(deployment).args ?? [], '--web.telemetry-path');
    const port = svc.spec.ports.find((p) => p.name === 'web')?.port;
    assert.equal(url, `${servesTls(manifests) ? 'https' : 'http'}://${svc.metadata.name}.observability.svc:${port}${path}`);
  });
}

test('the ServiceMonitor is on by default with the release: prometheus label and a 30s interval', async () => {
  const manifests = await renderVariant(variants[0]!);
  const monitor = find(manifests, 'ServiceMonitor') as unknown as
    | (ServiceMonitorView & { spec: { endpoints: { interval?: string }[] } })
    | undefined;
  assert.ok(monitor);
  assert.equal(monitor.metadata.labels.release, 'prometheus');
  assert.equal(monitor.spec.endpoints[0]?.interval, '30s');
});
