import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { loadConfigFile } from '../src/config/load.ts';
import { builtinSources } from '../src/sources/registry.ts';
import { runCli } from './support/cli.ts';
import { startTestExporterFromFile } from './support/exporter.ts';
import { scrape } from './support/scrape.ts';

const FIXTURES = new URL('fixtures/sources/', import.meta.url).pathname;
const COUNTING = join(FIXTURES, 'counting.ts');

/** Writes `sources.yaml` (and `files` beside it) to a new directory; returns the config file's path. */
async function configFile(yaml: (dir: string) => string, files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'module-source-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  const file = join(dir, 'sources.yaml');
  await writeFile(file, yaml(dir));
  return file;
}

test('a module source, named relative to the config file, serves its metric', async () => {
  const file = await configFile(
    (dir) =>
      `sources:\n  - kind: module\n    name: widgets\n    module: ${relative(dir, COUNTING)}\n    options: { metric: widgets_made }\n`,
  );
  const exporter = await startTestExporterFromFile(file);
  try {
    const all = (await scrape(exporter.url)).samples;
    assert.equal(all.get('widgets_made_total'), 1);
    assert.equal(all.get('custom_exporter_source_up{source="widgets"}'), 1);
    assert.deepEqual(
      exporter.status().map((s) => [s.name, s.kind]),
      [['widgets', 'counting']],
    );
  } finally {
    await exporter.stop();
  }
});

test("a module's options are validated by its own schema, with file, line and field", async () => {
  const file = await configFile(
    () => `sources:\n  - kind: module\n    module: ${COUNTING}\n    options:\n      metric: widgets\n      step: 0\n      colour: red\n`,
  );
  await assert.rejects(loadConfigFile(file, builtinSources), (err: Error) => {
    const lines = err.message.split('\n');
    assert.match(lines[0]!, new RegExp(`^${file}:6:7: sources\\[0\\]\\.options\\.step: Too small`));
    assert.equal(lines[1], `${file}:7:7: sources[0].options.colour: unknown field colour`);
    return true;
  });
  const missing = await configFile(() => `sources:\n  - kind: module\n    module: ${COUNTING}\n`);
  await assert.rejects(loadConfigFile(missing, builtinSources), {
    message: `${missing}:2:5: sources[0].options.metric: required field is missing`,
  });
});

test('a module that cannot be loaded is a config error naming the field and file', async () => {
  const absent = await configFile(() => 'sources:\n  - kind: module\n    module: ./nowhere.js\n');
  const expected = join(absent, '..', 'nowhere.js');
  await assert.rejects(loadConfigFile(absent, builtinSources), (err: Error) =>
    err.message.startsWith(`${absent}:3:5: sources[0].module: cannot load source module ${expected}: ENOENT`),
  );

  const notASource = await configFile(() => 'sources:\n  - kind: module\n    module: forty-two.mjs\n', {
    'forty-two.mjs': 'export default 42;\n',
  });
  await assert.rejects(
    loadConfigFile(notASource, builtinSources),
    /sources\[0\]\.module: cannot load source module .*forty-two\.mjs: its default export is not a source definition/,
  );

  const broken = await configFile(() => 'sources:\n  - kind: module\n    module: broken.mjs\n', { 'broken.mjs': 'export default {\n' });
  await assert.rejects(
    loadConfigFile(broken, builtinSources),
    /:3:5: sources\[0\]\.module: cannot load source module .*broken\.mjs: .*Unexpected end of input/,
  );
});

test('check-config validates module sources (exit 2 with the line), and accepts a good one', async () => {
  const bad = await configFile(() => `sources:\n  - kind: module\n    module: ${COUNTING}\n    options: { metric: 7 }\n`);
  const failed = await runCli(['check-config', bad]);
  assert.equal(failed.code, 2);
  assert.match(failed.stderr, new RegExp(`^${bad}:4:16: sources\\[0\\]\\.options\\.metric: Invalid input: expected string`));
  const good = await configFile(() => `sources:\n  - kind: module\n    name: w\n    module: ${COUNTING}\n    options: { metric: w }\n`);
  const ok = await runCli(['check-config', good]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /valid \(1 source: w\)/);
});

test('a module whose setup throws stops startup with exit 2, naming the source and the file', async () => {
  const file = await configFile(() => `sources:\n  - kind: module\n    name: queue\n    module: ${join(FIXTURES, 'failing-setup.ts')}\n`);
  const run = await runCli(['--config.file', file, '--web.listen-address=127.0.0.1:0', '--log.format=json']);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /invalid configuration/);
  const logged = JSON.parse(run.stderr.trim().split('\n').at(-1)!) as { err: string };
  assert.equal(logged.err, `source "queue" (module ${join(FIXTURES, 'failing-setup.ts')}) failed to start: cannot reach the queue`);
});
