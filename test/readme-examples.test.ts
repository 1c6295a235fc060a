import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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
  // The files an example names must exist when it is loaded: create them beside a copy of it.
  const dir = mkdtempSync(join(tmpdir(), 'readme-'));
  for (const yaml of blocks) {
    for (const [, path] of yaml.matchAll(/(?:\bfile|caFile|certFile|keyFile): ([\w./-]+)/g)) {
      mkdirSync(dirname(join(dir, path!)), { recursive: true });
      writeFileSync(join(dir, path!), 'x\n');
    }
    const config = parseConfig(yaml, join(dir, 'README.md'), builtinSources);
    assert.equal(config.sources.length, 1);
  }
});
