import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type ServingCli, serveCli } from './support/cli.ts';
import { eventually } from './support/eventually.ts';
import { startTestExporter, startTestExporterFromFile } from './support/exporter.ts';
import { scrape } from './support/scrape.ts';

const COUNTING = new URL('fixtures/sources/counting.ts', import.meta.url).pathname;

const counting = (name: string, step: number) =>
  `  - kind: module\n    name: ${name}\n    module: ${COUNTING}\n    options: { metric: ${name}, step: ${step} }\n`;

/** The `count`th log line with this message, once it is there. */
function logged(cli: ServingCli, msg: string, count: number): Promise<Record<string, unknown>> {
  return eventually(() => {
    const line = cli.logs().filter((l) => l.msg === msg)[count - 1];
    assert.ok(line, `no "${msg}" log line #${count}`);
    return line;
  });
}

test('reload: a changed source restarts, an unchanged one keeps counting, a removed one stops; a bad file keeps the old config', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'reload-'));
  const file = join(dir, 'sources.yaml');
  await writeFile(file, `sources:\n${counting('steady', 1)}${counting('target', 1)}`);
  const cli = await serveCli(['--config.file', file, '--web.enable-lifecycle']);
  try {
    await scrape(cli.url);
    const before = (await scrape(cli.url)).samples;
    assert.equal(before.get('steady_total'), 2);
    assert.equal(before.get('target_total'), 2);
    assert.equal(before.get('custom_exporter_config_last_reload_successful'), 1);
    const loadedAt = before.get('custom_exporter_config_last_reload_success_timestamp_seconds')!;

    // SIGHUP with one source changed.
    await writeFile(file, `sources:\n${counting('steady', 1)}${counting('target', 10)}`);
    cli.signal('SIGHUP');
    const reloaded = await logged(cli, 'config reloaded', 1);
    assert.equal(reloaded.restarted, 'target');
    assert.equal(reloaded.unchanged, 'steady');
    assert.equal((await logged(cli, 'counting source stopped', 1)).metric, 'target');
    const after = (await scrape(cli.url)).samples;
    assert.equal(after.get('steady_total'), 3, 'the unchanged source kept its count');
    assert.equal(after.get('target_total'), 10, 'the changed source restarted with its new options');
    assert.ok(after.get('custom_exporter_config_last_reload_success_timestamp_seconds')! >= loadedAt);

    // A broken file: POST /-/reload fails, the old sources keep running.
    await writeFile(file, `sources:\n  - kind: module\n    module: ${COUNTING}\n    options: { metric: 5 }\n`);
    const failed = await fetch(`${cli.url}/-/reload`, { method: 'POST' });
    assert.equal(failed.status, 500);
    const error = await logged(cli, 'config reload failed; the previous config stays in effect', 1);
    assert.match(String(error.err), new RegExp(`^${file}:4:16: sources\\[0\\]\\.options\\.metric: Invalid input`));
    const kept = (await scrape(cli.url)).samples;
    assert.equal(kept.get('custom_exporter_config_last_reload_successful'), 0);
    assert.equal(kept.get('steady_total'), 4);
    assert.equal(kept.get('target_total'), 20);

    // Fixed, with a source removed.
    await writeFile(file, `sources:\n${counting('steady', 1)}`);
    assert.equal((await fetch(`${cli.url}/-/reload`, { method: 'POST' })).status, 200);
    assert.equal((await logged(cli, 'config reloaded', 2)).removed, 'target');
    const fixed = (await scrape(cli.url)).samples;
    assert.equal(fixed.get('custom_exporter_config_last_reload_successful'), 1);
    assert.equal(fixed.get('steady_total'), 5);
    assert.equal(fixed.has('target_total'), false);
    assert.equal(fixed.has('custom_exporter_source_up{source="target"}'), false);
  } finally {
    cli.signal('SIGTERM');
    await cli.exited;
  }
});

test('POST /-/reload is 403 without --web.enable-lifecycle, and other methods get 405', async () => {
  const exporter = await startTestExporter('sources: [{ kind: demo }]');
  try {
    const post = await fetch(`${exporter.url}/-/reload`, { method: 'POST' });
    assert.equal(post.status, 403);
    assert.equal(await post.text(), 'Lifecycle API is not enabled.\n');
    const get = await fetch(`${exporter.url}/-/reload`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    const postMetrics = await fetch(`${exporter.url}/metrics`, { method: 'POST' });
    assert.equal(postMetrics.status, 405);
    assert.equal(postMetrics.headers.get('allow'), 'GET, HEAD');
  } finally {
    await exporter.stop();
  }
});

test('reload: a module that fails in setup keeps the old config running', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'reload-'));
  const file = join(dir, 'sources.yaml');
  await writeFile(file, 'sources:\n  - { kind: count, name: steady }\n');
  const exporter = await startTestExporterFromFile(file);
  try {
    assert.equal((await scrape(exporter.url)).samples.get('calls_seen'), 1);
    const failing = new URL('fixtures/sources/failing-setup.ts', import.meta.url).pathname;
    await writeFile(file, `sources:\n  - { kind: count, name: steady }\n  - { kind: module, name: queue, module: ${failing} }\n`);
    assert.equal(await exporter.reload(), false);
    const after = (await scrape(exporter.url)).samples;
    assert.equal(after.get('calls_seen'), 2);
    assert.equal(after.get('custom_exporter_config_last_reload_successful'), 0);
    assert.deepEqual(
      exporter.status().map((s) => s.name),
      ['steady'],
    );
  } finally {
    await exporter.stop();
  }
});
