// Every key of the chart's API is explained in values.yaml, exists in the schema and in values.yaml,
// and appears in the chart README's values table.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isMap, isScalar, type Node, parseDocument } from 'yaml';
import { chartDir } from '../support/helm.ts';
import { valueKeys } from './values-keys.ts';

const source = readFileSync(join(chartDir, 'values.yaml'), 'utf8');

/** The comment written above `path` in values.yaml (yaml puts the first key's comment on its map). */
function commentAbove(path: string): string | undefined {
  let node: unknown = parseDocument(source).contents;
  let comment: string | undefined;
  for (const segment of path.split('.')) {
    if (!isMap(node)) return undefined;
    const index = node.items.findIndex((pair) => isScalar(pair.key) && pair.key.value === segment);
    const pair = node.items[index];
    if (!pair) return undefined;
    comment = (pair.key as Node).commentBefore ?? (index === 0 ? node.commentBefore : undefined) ?? undefined;
    node = pair.value;
  }
  return comment ?? undefined;
}

const keys = valueKeys();

test('every key the schema lists is set in values.yaml', () => {
  const missing = keys.filter(([, value]) => value === undefined).map(([key]) => key);
  assert.deepEqual(missing, []);
});

test('every key in values.yaml carries an explanation', () => {
  const undocumented = keys.map(([key]) => key).filter((key) => (commentAbove(key) ?? '').trim().length < 10);
  assert.deepEqual(undocumented, []);
});

test('the chart README lists every value in its table', () => {
  const readme = readFileSync(join(chartDir, 'README.md'), 'utf8');
  const rows = new Set([...readme.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]));
  const missing = keys.map(([key]) => key).filter((key) => !rows.has(key));
  assert.deepEqual(missing, [], 'add these rows to helm/custom-exporter/README.md');
  const stale = [...rows].filter((row) => !keys.some(([key]) => key === row));
  assert.deepEqual(stale, [], 'these README rows are not chart values');
});
