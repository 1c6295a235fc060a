import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runCli, serveCli } from './support/cli.ts';
import { scrape } from './support/scrape.ts';

async function configFile(text: string): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'cli-')), 'custom-exporter.yaml');
  await writeFile(file, text);
  return file;
}

describe('custom-exporter check-config', () => {
  test('a valid file: exit 0 and a summary on stdout', async () => {
    const file = await configFile('sources:\n  - kind: demo\n    name: shop\n');
    const run = await runCli(['check-config', file]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `${file}: valid (1 source: shop)\n`);
  });

  test('a broken file: exit 2 and file:line:col, field and reason on stderr', async () => {
    const file = await configFile('sources:\n  - kind: demo\n    timeout: fast\n');
    const run = await runCli(['check-config', file]);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, '');
    assert.equal(
      run.stderr,
      `${file}:3:5: sources[0].timeout: invalid duration "fast" (expected a positive Prometheus duration such as 500ms, 10s or 1m30s)\n`,
    );
  });

  test('a missing file: exit 2', async () => {
    const run = await runCli(['check-config', '/nonexistent.yaml']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^\/nonexistent\.yaml: cannot read config file: ENOENT/);
  });
});

describe('custom-exporter flags', () => {
  test('--version and --help exit 0', async () => {
    const version = await runCli(['--version']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    for (const flag of [
      '--web.listen-address',
      '--web.telemetry-path',
      '--config.file',
      '--log.level',
      '--log.format',
      '--web.disable-exporter-metrics',
      'check-config',
    ]) {
      assert.ok(help.stdout.includes(flag), `help mentions ${flag}`);
    }
  });

  test('an unknown flag or bad value exits 2 without starting', async () => {
    assert.equal((await runCli(['--web.listen-adress=:1'])).code, 2);
    const level = await runCli(['--log.level=loud']);
    assert.equal(level.code, 2);
    assert.match(level.stderr, /Allowed choices are debug, info, warn, error/);
    const address = await runCli(['--web.listen-address=localhost']);
    assert.equal(address.code, 2);
    assert.match(address.stderr, /invalid listen address \\?"localhost\\?"/);
  });

  test('an invalid config file exits 2 with the reason logged, and nothing listens', async () => {
    const file = await configFile('sources:\n  - kind: demo\n    extra: 1\n');
    const run = await runCli([`--config.file=${file}`, '--log.format=json', '--web.listen-address=127.0.0.1:0']);
    assert.equal(run.code, 2);
    const line = JSON.parse(run.stderr.trim().split('\n').at(-1)!) as { level: string; msg: string; err: string };
    assert.equal(line.level, 'error');
    assert.equal(line.msg, 'invalid configuration');
    assert.equal(line.err, `${file}:3:5: sources[0].extra: unknown field extra`);
    assert.doesNotMatch(run.stderr, /listening/);
  });

  test('environment variables stand in for flags', async () => {
    const run = await runCli(['--log.format=json'], { env: { CUSTOM_EXPORTER_CONFIG_FILE: '/nonexistent.yaml' } });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /\/nonexistent\.yaml: cannot read config file/);
  });

  test('logfmt is the default log format', async () => {
    const run = await runCli(['--config.file=/nonexistent.yaml']);
    assert.match(run.stderr, /^level=error time=\S+ err="\/nonexistent\.yaml: cannot read config file: .*" msg="invalid configuration"$/m);
  });
});

describe('serving and stopping', () => {
  test('starts with the built-in demo source, and SIGTERM stops it gracefully with exit 0', async () => {
    const cli = await serveCli();
    const { body } = await scrape(cli.url);
    assert.match(body, /^random_number \d+$/m);
    assert.match(body, /^custom_exporter_source_up\{source="demo"\} 1$/m);
    cli.signal('SIGTERM');
    assert.equal(await cli.exited, 0);
    const messages = cli.logs().map((l) => l.msg);
    assert.deepEqual(messages.slice(-2), ['shutting down', 'stopped']);
    process.stdout.write(`# startup to first answer: ${cli.startupMs.toFixed(0)} ms\n`);
  });

  test('SIGINT also stops it with exit 0', async () => {
    const cli = await serveCli(['--web.telemetry-path=/custom']);
    assert.equal((await fetch(`${cli.url}/custom`)).status, 200);
    assert.equal((await fetch(`${cli.url}/metrics`)).status, 404);
    cli.signal('SIGINT');
    assert.equal(await cli.exited, 0);
  });
});
