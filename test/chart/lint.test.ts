import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chartDir, helm } from '../support/helm.ts';
import { variants } from './variants.ts';

for (const variant of variants) {
  test(`helm lint --strict passes with ${variant.name}`, async () => {
    const args = ['lint', '--strict', chartDir];
    for (const file of variant.valuesFiles) args.push('--values', file);
    const result = await helm(args);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    assert.doesNotMatch(result.stdout, /\[(WARNING|ERROR)\]/);
  });
}

test('there is at least one ci/*-values.yaml variant besides the defaults', () => {
  assert.ok(variants.length >= 3, variants.map((v) => v.name).join(', '));
});
