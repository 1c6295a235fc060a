import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseConfig } from '../src/config/load.ts';
import { builtinSources } from '../src/sources/registry.ts';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

test("the README's http, command and file examples are valid configs", () => {
  const blocks = [...README.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((y) => /kind: (http|command|file)\n/.test(y));
  assert.deepEqual(
    blocks.map((y) => /kind: (\w+)/.exec(y)![1]),
    ['http', 'command', 'file'],
  );
  for (const yaml of blocks) {
    const config = parseConfig(yaml, 'README.md', builtinSources);
    assert.equal(config.sources.length, 1);
  }
});
