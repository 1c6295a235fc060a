// Static checks of the Dockerfile that hold without building it (npm run test:image builds and runs it).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../support/helm.ts';

const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
// Instructions with their continuation lines joined, comments dropped.
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'))
  .map((line) => {
    const [keyword = '', ...rest] = line.split(/\s+/);
    return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
  });
const stages = instructions.filter((i) => i.keyword === 'FROM');
const finalStage = instructions.slice(instructions.lastIndexOf(stages[stages.length - 1]!));
const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string; license: string };

test('every stage derives from one pinned Node 24 slim image', () => {
  const [first, ...others] = stages;
  assert.match(first?.args ?? '', /^node:24\.\d+\.\d+-[a-z]+-slim AS base$/);
  const stageNames = new Set(stages.map((s) => s.args.split(/\s+AS\s+/i)[1]).filter(Boolean));
  for (const stage of others) {
    const image = stage.args.split(/\s+/)[0] ?? '';
    assert.ok(stageNames.has(image), `FROM ${image} is one of this file's stages`);
  }
  assert.ok(stages.length >= 3, 'multi-stage: build, production dependencies, runtime');
});

test('the runtime stage runs node as a numeric non-root user, exposes 9000 and has OCI labels', () => {
  const user = finalStage.filter((i) => i.keyword === 'USER').pop()?.args;
  assert.match(user ?? '', /^[1-9]\d*:[1-9]\d*$/);
  assert.ok(finalStage.some((i) => i.keyword === 'EXPOSE' && i.args === '9000'));
  assert.equal(finalStage.filter((i) => i.keyword === 'ENTRYPOINT').pop()?.args, '["node", "--max-semi-space-size=8", "dist/main.js"]');
  const labels = finalStage
    .filter((i) => i.keyword === 'LABEL')
    .map((i) => i.args)
    .join(' ');
  for (const key of ['source', 'version', 'licenses']) assert.match(labels, new RegExp(`org\\.opencontainers\\.image\\.${key}=`));
  assert.match(labels, new RegExp(`org\\.opencontainers\\.image\\.licenses="${packageJson.license}"`));
  assert.ok(
    finalStage.some((i) => i.keyword === 'ARG' && i.args === `VERSION=${packageJson.version}`),
    'VERSION default is package.json version',
  );
});

test('the runtime stage gets production dependencies only', () => {
  const deps = instructions.find((i) => i.keyword === 'RUN' && i.args.includes('--omit=dev'));
  assert.ok(deps, 'a stage installs with npm ci --omit=dev');
  const copies = finalStage.filter((i) => i.keyword === 'COPY').map((i) => i.args);
  assert.ok(copies.some((c) => c.startsWith('--from=deps ') && c.includes('node_modules')));
  assert.ok(copies.some((c) => c.startsWith('--from=build ') && c.includes('dist')));
  assert.ok(!copies.some((c) => c.startsWith('--from=build ') && c.includes('node_modules')), 'no dev node_modules');
});

test('.dockerignore keeps local node_modules, dist, caches and .git out of the build context', () => {
  const ignore = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim());
  assert.ok(ignore.includes('*'), 'starts from ignoring everything');
  const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
  assert.deepEqual(allowed.sort(), ['package-lock.json', 'package.json', 'src', 'tsconfig.build.json', 'tsconfig.json']);
});
