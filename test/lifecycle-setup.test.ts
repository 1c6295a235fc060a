import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { spawnCli } from './support/cli.ts';
import { bothReject, escapeRegExp } from './support/config-error.ts';
import { scrape } from './support/scrape.ts';

// Issue 11: a module whose setup never settles cannot hang startup or wedge reloads; SIGHUP during a slow
// startup does not kill the exporter.

const SLOW = new URL('fixtures/sources/slow-setup.ts', import.meta.url).pathname;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lifecycle-setup-'));
});

const stuck = `  - kind: module\n    name: stuck\n    module: ${SLOW}\n`;
const config = (setupTimeout: string, ...sources: string[]) =>
  `global:\n  setupTimeout: ${setupTimeout}\nsources:\n  - kind: demo\n${sources.join('')}`;

test('a setup that never settles fails startup after global.setupTimeout with exit 2, naming the source', { timeout: 60_000 }, async () => {
  const file = join(dir, 'stuck.yaml');
  await writeFile(file, config('1s', stuck));
  const cli = spawnCli([`--config.file=${file}`]);
  const failed = await cli.waitForLog((l) => l.msg === 'invalid configuration', 20_000);
  assert.match(
    String(failed.err),
    new RegExp(`^source "stuck" \\(module ${SLOW}\\) failed to start: setup did not finish within 1s \\(global\\.setupTimeout\\)$`),
  );
  assert.equal(await cli.exited, 2);
  assert.ok(!cli.logs().some((l) => l.msg === 'listening'));
});

test('a reload whose setup never settles fails cleanly and releases the queue for the next one', { timeout: 60_000 }, async () => {
  const file = join(dir, 'reload.yaml');
  await writeFile(file, config('1s'));
  const cli = spawnCli([`--config.file=${file}`, '--web.enable-lifecycle']);
  try {
    const url = await cli.listening();
    await writeFile(file, config('1s', stuck));
    const failed = await fetch(`${url}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(15_000) });
    assert.equal(failed.status, 500);
    assert.match(
      String((await cli.waitForLog((l) => l.msg === 'config reload failed; the previous config stays in effect')).err),
      /setup did not finish within 1s/,
    );
    // The queue is free: the next reload (here by SIGHUP) applies a good file.
    await writeFile(file, config('1s', '  - kind: demo\n    name: second\n'));
    cli.signal('SIGHUP');
    const reloaded = await cli.waitForLog((l) => l.msg === 'config reloaded');
    assert.equal(reloaded.added, 'second');
    const metrics = (await scrape(url)).body;
    assert.match(metrics, /^custom_exporter_source_up\{source="second"\} 1$/m);
  } finally {
    cli.signal('SIGTERM');
    assert.equal(await cli.exited, 0);
  }
});

test('SIGHUP during a slow startup does not kill the exporter; the reload happens once it is ready', { timeout: 60_000 }, async () => {
  const file = join(dir, 'slow.yaml');
  await writeFile(file, config('30s', `  - kind: module\n    name: slow\n    module: ${SLOW}\n    options: { ms: 3000 }\n`));
  const cli = spawnCli([`--config.file=${file}`]);
  try {
    await cli.waitForLog((l) => l.msg === 'slow setup started');
    cli.signal('SIGHUP');
    await cli.waitForLog((l) => l.msg === 'SIGHUP before the exporter is ready: reloading once it is');
    const url = await cli.listening();
    await cli.waitForLog((l) => l.msg === 'config reloaded');
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    assert.equal(cli.exitCode(), null);
  } finally {
    cli.signal('SIGTERM');
    assert.equal(await cli.exited, 0);
  }
});

test('a module whose top-level code never settles: check-config and start exit 2 after global.setupTimeout', {
  timeout: 60_000,
}, async () => {
  const module = join(dir, 'never.mjs');
  await writeFile(module, 'await new Promise(() => {});\nexport default {};\n');
  const file = join(dir, 'never.yaml');
  await writeFile(file, `global:\n  setupTimeout: 1s\nsources:\n  - kind: module\n    module: never.mjs\n`);
  await bothReject(
    file,
    new RegExp(
      `^${escapeRegExp(file)}:5:5: sources\\[0\\]\\.module: cannot load source module ${escapeRegExp(module)}: its top-level code did not finish within 1s \\(global\\.setupTimeout\\)$`,
      'm',
    ),
  );
});
