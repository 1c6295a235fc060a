// The strict check itself: it must catch what kubernetes-models lets through.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { only, render } from '../support/helm.ts';
import { unknownFields, validateStrictly } from './schema-check.ts';

test('a misspelled field anywhere in a Deployment is reported with its path', async () => {
  const deployment = structuredClone(only(await render(), 'Deployment')) as any;
  deployment.spec.replica = 2;
  deployment.spec.template.spec.containers[0].securityContext.readOnlyRootFilesytem = true;
  deployment.spec.template.spec.containers[0].livenessProbe.httpGet.paht = '/healthz';
  assert.deepEqual(unknownFields(deployment).sort(), [
    '/spec/replica',
    '/spec/template/spec/containers/0/livenessProbe/httpGet/paht',
    '/spec/template/spec/containers/0/securityContext/readOnlyRootFilesytem',
  ]);
  assert.throws(() => validateStrictly(deployment), /fields unknown to the Deployment schema: \/spec\/replica/);
});

test('a misspelled ServiceMonitor endpoint field is reported', async () => {
  const monitor = structuredClone(only(await render(), 'ServiceMonitor')) as any;
  monitor.spec.endpoints[0].scrapeTimout = '10s';
  assert.deepEqual(unknownFields(monitor), ['/spec/endpoints/0/scrapeTimout']);
});

test('free-form maps (labels, ConfigMap data) accept any key', async () => {
  const configMap = structuredClone(only(await render(), 'ConfigMap')) as any;
  configMap.metadata.labels['example.com/anything'] = 'yes';
  configMap.data['other.yaml'] = 'a: 1';
  assert.deepEqual(unknownFields(configMap), []);
});

test('a wrong type is rejected by the model', async () => {
  const service = structuredClone(only(await render(), 'Service')) as any;
  service.spec.ports[0].port = 'nine thousand';
  assert.throws(() => validateStrictly(service), /ports\/0\/port/);
});
