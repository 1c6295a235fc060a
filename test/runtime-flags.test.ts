// The exporter is launched in five places; they must give Node.js the same flags, or the figures in bench/ and the
// soak would describe a process users never run.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { NODE_FLAGS, RUNTIME_ENV } from './support/cli.ts';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');
const flags = NODE_FLAGS.join(' ');
const env = Object.entries(RUNTIME_ENV).map(([name, value]) => `${name}=${value}`);

test('the image, npm start, the bin, the bench and the tests run node with the same flags and environment', () => {
  for (const assignment of env) assert.match(read('Dockerfile'), new RegExp(`^ENV ${assignment}$`, 'm'));
  assert.match(
    read('Dockerfile'),
    new RegExp(`^ENTRYPOINT \\["node", ${NODE_FLAGS.map((f) => `"${f}"`).join(', ')}, "dist/main.js"\\]$`, 'm'),
  );
  const pkg = JSON.parse(read('package.json')) as { scripts: { start: string } };
  assert.match(pkg.scripts.start, new RegExp(`&& ${env.join(' ')} node ${flags} dist/main\\.js$`));
  assert.equal(read('src/main.ts').split('\n')[0], `#!/usr/bin/env -S ${env.join(' ')} node ${flags}`);
  assert.match(
    read('bench/peers/custom-exporter.mjs'),
    new RegExp(`const NODE_FLAGS = \\[${NODE_FLAGS.map((f) => `'${f}'`).join(', ')}\\];`),
  );
  const benchEnv = Object.entries(RUNTIME_ENV).map(([name, value]) => `${name}: '${value}'`);
  assert.match(read('bench/peers/custom-exporter.mjs'), new RegExp(`const RUNTIME_ENV = \\{ ${benchEnv.join(', ')} \\};`));
});
