// values.web.* : the web config Secret the exporter loads, probes and ServiceMonitor that match it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseWebConfig } from '../../src/http/web-config.ts';
import { type Manifest, render } from '../support/helm.ts';
import { exporterContainer, flag, podSpecOf, podTemplate } from './k8s.ts';
import { find, renderVariant, variants } from './variants.ts';

const webYml = (manifests: Manifest[]) =>
  (manifests.find((m) => m.kind === 'Secret') as { stringData?: Record<string, string> } | undefined)?.stringData?.['web.yml'];

for (const variant of variants) {
  test(`${variant.name}: a rendered web config is one the exporter accepts, mounted where --web.config.file points`, async (t) => {
    const manifests = await renderVariant(variant);
    const text = webYml(manifests);
    if (text === undefined) {
      t.diagnostic('no web config in this variant');
      return;
    }
    const { data } = parseWebConfig(text, `${variant.name}:web.yml`);
    const deployment = find(manifests, 'Deployment');
    assert.ok(deployment);
    const container = exporterContainer(deployment) as { args?: string[]; volumeMounts?: { name: string; mountPath: string }[] };
    assert.equal(flag(container.args ?? [], '--web.config.file'), '/etc/custom-exporter/web/web.yml');
    assert.ok(container.volumeMounts?.some((m) => m.name === 'web-config' && m.mountPath === '/etc/custom-exporter/web'));
    if (data.tls_server_config?.cert_file?.startsWith('/etc/custom-exporter/tls/')) {
      assert.ok(
        container.volumeMounts?.some((m) => m.name === 'tls' && m.mountPath === '/etc/custom-exporter/tls'),
        'the TLS Secret is mounted',
      );
    }
  });
}

test("web.tlsSecret alone turns TLS on with the Secret's files", async () => {
  const manifests = await render({ set: ['web.tlsSecret=my-tls', 'serviceMonitor.scheme=https'] });
  const { data } = parseWebConfig(webYml(manifests)!, 'web.yml');
  assert.deepEqual(data.tls_server_config && { cert: data.tls_server_config.cert_file, key: data.tls_server_config.key_file }, {
    cert: '/etc/custom-exporter/tls/tls.crt',
    key: '/etc/custom-exporter/tls/tls.key',
  });
  const spec = podTemplate(find(manifests, 'Deployment')!).spec as { volumes?: { name: string; secret?: { secretName: string } }[] };
  assert.ok(spec.volumes?.some((v) => v.name === 'tls' && v.secret?.secretName === 'my-tls'));
});

test('TLS with the ServiceMonitor still on http is refused with a reason', async () => {
  await assert.rejects(render({ set: ['web.tlsSecret=my-tls'] }), /serviceMonitor\.scheme must be https when the exporter serves TLS/);
});

test('client certificates required: probes check the TCP port and no helm test pod is rendered', async () => {
  const manifests = await render({
    set: [
      'web.tlsSecret=my-tls',
      'serviceMonitor.scheme=https',
      'web.config.tls_server_config.cert_file=/etc/custom-exporter/tls/tls.crt',
      'web.config.tls_server_config.key_file=/etc/custom-exporter/tls/tls.key',
      'web.config.tls_server_config.client_auth_type=RequireAndVerifyClientCert',
      'web.config.tls_server_config.client_ca_file=/etc/custom-exporter/tls/ca.crt',
    ],
  });
  const container = exporterContainer(find(manifests, 'Deployment')!) as {
    livenessProbe?: Record<string, unknown>;
    readinessProbe?: Record<string, unknown>;
  };
  assert.deepEqual(container.livenessProbe?.tcpSocket, { port: 'web' });
  assert.deepEqual(container.readinessProbe?.tcpSocket, { port: 'web' });
  assert.equal(find(manifests, 'Pod'), undefined);
});

test('basic auth: the helm test pod expects 401, proving the exporter answers and is protected', async () => {
  const manifests = await renderVariant(variants.find((v) => v.name === 'ci/tls-auth-values.yaml')!);
  const env = podSpecOf(find(manifests, 'Pod')!).containers[0]?.env ?? [];
  assert.equal(env.find((e) => e.name === 'EXPECT_STATUS')?.value, '401');
  assert.equal(env.find((e) => e.name === 'NODE_TLS_REJECT_UNAUTHORIZED')?.value, '0');
});

test('a web config key the exporter does not know is refused by the chart schema', async () => {
  await assert.rejects(render({ set: ['web.config.tls_config.cert_file=x'] }), /tls_config/);
});
