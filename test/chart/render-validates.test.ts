// Every object of every variant matches the Kubernetes / Prometheus Operator schema, with no field the
// schema does not know.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateStrictly } from './schema-check.ts';
import { renderVariant, variants } from './variants.ts';

for (const variant of variants) {
  test(`${variant.name}: every rendered object is a valid, typo-free Kubernetes object`, async () => {
    const manifests = await renderVariant(variant);
    assert.ok(manifests.length >= 2, 'renders at least a Deployment and a Service');
    for (const manifest of manifests) {
      assert.doesNotThrow(() => validateStrictly(manifest), `${manifest.kind} ${manifest.metadata.name}`);
    }
    const names = manifests.map((m) => `${m.kind}/${m.metadata.name}`);
    assert.equal(new Set(names).size, names.length, `duplicate objects: ${names.join(', ')}`);
  });
}
