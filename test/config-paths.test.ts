import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfigFile } from '../src/config/load.ts';
import { builtinSources } from '../src/sources/registry.ts';
import { spawnCli } from './support/cli.ts';
import { scrape } from './support/scrape.ts';

const READING = new URL('fixtures/sources/reading.ts', import.meta.url).pathname;

/** A config file in its own directory, with `value.txt` beside it, and a different directory to start the exporter from. */
async function configBesideValue(value: string): Promise<{ file: string; dir: string; elsewhere: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'config-paths-'));
  const elsewhere = join(dir, 'elsewhere');
  await mkdir(elsewhere);
  await writeFile(join(dir, 'value.txt'), value);
  const file = join(dir, 'sources.yaml');
  await writeFile(
    file,
    `sources:\n  - kind: module\n    name: reading\n    module: ${READING}\n    options: { metric: reading, file: value.txt }\n`,
  );
  return { file, dir, elsewhere };
}

test("a module source resolves its path options against the config file's directory (resolveConfigPath)", async () => {
  const { file, dir } = await configBesideValue('42');
  const config = await loadConfigFile(file, builtinSources);
  assert.equal(config.sources[0]!.options.file, join(dir, 'value.txt'));
});

test('the real CLI, started from another directory, reads the file named relative to the config', async () => {
  const { file, elsewhere } = await configBesideValue('42');
  const cli = spawnCli([`--config.file=${file}`], { cwd: elsewhere });
  try {
    const url = await cli.listening();
    const all = (await scrape(url)).samples;
    assert.equal(all.get('custom_exporter_source_up{source="reading"}'), 1);
    assert.equal(all.get('reading'), 42);
  } finally {
    cli.signal('SIGTERM');
    assert.equal(await cli.exited, 0);
  }
});

test('a module whose options function throws is a config error naming the module field, file and reason', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'config-paths-'));
  await writeFile(
    join(dir, 'broken.mjs'),
    "export default { kind: 'broken', description: '', options: () => { throw new Error('no schema today'); }, setup() {} };\n",
  );
  const file = join(dir, 'sources.yaml');
  await writeFile(file, 'sources:\n  - kind: module\n    module: broken.mjs\n');
  await assert.rejects(loadConfigFile(file, builtinSources), {
    name: 'ConfigError',
    message: `${file}:3:5: sources[0].module: cannot build the options schema of ${join(dir, 'broken.mjs')}: no schema today`,
  });
});
