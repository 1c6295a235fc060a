// Every pod the chart renders (the exporter and the helm test pod) meets Pod Security "restricted".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Manifest } from '../support/helm.ts';
import { type PodSpecView, podSpecOf, podTemplate } from './k8s.ts';
import { renderVariant, variants } from './variants.ts';

function podSpecs(manifests: Manifest[]): [string, PodSpecView][] {
  const specs: [string, PodSpecView][] = [];
  for (const m of manifests) {
    if (m.kind === 'Deployment') specs.push([`Deployment/${m.metadata.name}`, podTemplate(m).spec]);
    if (m.kind === 'Pod') specs.push([`Pod/${m.metadata.name}`, podSpecOf(m)]);
  }
  return specs;
}

function assertRestricted(where: string, spec: PodSpecView): void {
  const pod = spec.securityContext ?? {};
  assert.equal(pod.runAsNonRoot, true, `${where}: runAsNonRoot`);
  assert.ok(Number.isInteger(pod.runAsUser) && (pod.runAsUser as number) > 0, `${where}: fixed non-root uid`);
  assert.ok(Number.isInteger(pod.runAsGroup) && (pod.runAsGroup as number) > 0, `${where}: fixed non-root gid`);
  assert.deepEqual(pod.seccompProfile, { type: 'RuntimeDefault' }, `${where}: seccomp`);
  assert.equal(spec.automountServiceAccountToken, false, `${where}: no API token mounted`);
  for (const container of spec.containers) {
    const c = container.securityContext ?? {};
    const at = `${where} container ${container.name}`;
    assert.equal(c.allowPrivilegeEscalation, false, `${at}: allowPrivilegeEscalation`);
    assert.equal(c.readOnlyRootFilesystem, true, `${at}: readOnlyRootFilesystem`);
    assert.notEqual(c.privileged, true, `${at}: not privileged`);
    assert.deepEqual((c.capabilities as { drop?: string[]; add?: string[] } | undefined)?.drop, ['ALL'], `${at}: drop ALL`);
    assert.equal((c.capabilities as { add?: string[] } | undefined)?.add, undefined, `${at}: adds no capability`);
    if (c.runAsUser !== undefined) assert.notEqual(c.runAsUser, 0, `${at}: not uid 0`);
  }
}

for (const variant of variants) {
  test(`${variant.name}: every pod meets the restricted Pod Security profile`, async () => {
    const specs = podSpecs(await renderVariant(variant));
    assert.ok(specs.length >= 1);
    for (const [where, spec] of specs) assertRestricted(where, spec);
  });
}

test('the check fails for a pod that may escalate privileges', async () => {
  const [, spec] = podSpecs(await renderVariant(variants[0]!))[0]!;
  const broken = structuredClone(spec);
  broken.containers[0]!.securityContext = { ...broken.containers[0]!.securityContext, allowPrivilegeEscalation: true };
  assert.throws(() => assertRestricted('broken', broken), /allowPrivilegeEscalation/);
});
