import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { defaultConfig } from '../src/config/default.ts';
import { loadConfigFile, parseConfig } from '../src/config/load.ts';
import { parseDuration } from '../src/duration.ts';
import { builtinSources } from '../src/sources/registry.ts';
import { assertConfigError, assertConfigRejects } from './support/config-error.ts';

const parse = (yaml: string) => parseConfig(yaml, 'sources.yaml', builtinSources);

describe('config file', () => {
  test('a minimal file gets every default', () => {
    const config = parse('sources:\n  - kind: demo\n');
    assert.deepEqual(config.global, {
      scrapeTimeout: 10_000,
      scrapeTimeoutOffset: 500,
      sourceTimeout: 5000,
      setupTimeout: 30_000,
      maxConcurrentProbes: 16,
      seriesLimit: 10_000,
      scopeLabels: false,
      targetInfo: true,
      translationStrategy: 'UnderscoreEscapingWithSuffixes',
      histograms: { aggregation: 'explicit', maxSize: 160, maxScale: 20 },
    });
    assert.equal(config.sources.length, 1);
    assert.equal(config.sources[0]!.name, 'demo');
    assert.equal(config.sources[0]!.timeoutMs, 5000);
  });

  test('global settings and per-source timeout and name are read', () => {
    const config = parse(
      'global:\n  scrapeTimeout: 1m30s\n  sourceTimeout: 2s\n  seriesLimit: 50000\nsources:\n  - kind: demo\n    name: first\n    timeout: 250ms\n  - kind: demo\n    name: second\n',
    );
    assert.equal(config.global.scrapeTimeout, 90_000);
    assert.equal(config.global.seriesLimit, 50_000);
    assert.deepEqual(
      config.sources.map((s) => [s.name, s.timeoutMs]),
      [
        ['first', 250],
        ['second', 2000],
      ],
    );
  });

  test('the built-in default runs the demo source', () => {
    const config = defaultConfig();
    assert.equal(config.file, undefined);
    assert.deepEqual(
      config.sources.map((s) => s.definition.kind),
      ['demo'],
    );
  });

  test('a bad duration names file, line, field and reason', () => {
    assertConfigRejects(
      'sources:\n  - kind: demo\n    timeout: 5x\n',
      'sources.yaml:3:5: sources[0].timeout: invalid duration "5x" (expected a positive Prometheus duration such as 500ms, 10s or 1m30s)',
    );
  });

  test('an unknown kind lists the known ones', () => {
    assertConfigRejects(
      'sources:\n  - kind: nope\n',
      'sources.yaml:2:5: sources[0].kind: unknown source kind "nope" (expected one of: demo, http, command, file, textfile, sql, module)',
    );
  });

  test('a missing kind is reported as missing', () => {
    assertConfigRejects(
      'sources:\n  - name: x\n',
      'sources.yaml:2:5: sources[0].kind: required field is missing (one of: demo, http, command, file, textfile, sql, module)',
    );
  });

  test('unknown fields are rejected, not ignored', () => {
    assertConfigRejects(
      'global:\n  scrape_timeout: 10s\nsources:\n  - kind: demo\n',
      'sources.yaml:2:3: global.scrape_timeout: unknown field scrape_timeout',
    );
    assertConfigRejects('sources:\n  - kind: demo\n    colour: red\n', 'sources.yaml:3:5: sources[0].colour: unknown field colour');
  });

  test('wrong types and out-of-range numbers are rejected', () => {
    assertConfigRejects(
      'global:\n  seriesLimit: lots\nsources:\n  - kind: demo\n',
      'sources.yaml:2:3: global.seriesLimit: Invalid input: expected number, received string',
    );
    assertConfigRejects(
      'global:\n  seriesLimit: 0\nsources:\n  - kind: demo\n',
      'sources.yaml:2:3: global.seriesLimit: Too small: expected number to be >0',
    );
  });

  test('duplicate source names are rejected', () => {
    assertConfigRejects(
      'sources:\n  - kind: demo\n  - kind: demo\n',
      'sources.yaml:3:5: sources[1].kind: duplicate source name "demo" (also sources[0]; give each source a unique name)',
    );
  });

  test('source names must be label-friendly', () => {
    assertConfigRejects(
      'sources:\n  - kind: demo\n    name: "my source"\n',
      'sources.yaml:3:5: sources[0].name: must start with a letter or _ and contain only letters, digits, _ . -',
    );
  });

  test('an empty source list and an empty file are rejected', () => {
    assertConfigRejects('sources: []\n', 'sources.yaml:1:1: sources: at least one source is required');
    assertConfigRejects('', 'sources.yaml: sources: required field is missing');
  });

  test('invalid YAML reports its position', () => {
    assertConfigRejects('sources:\n  - kind: demo\n    kind: demo\n', 'sources.yaml:3:5: invalid YAML: Map keys must be unique');
    assertConfigError(() => parse('sources:\n  - kind: demo\n   bad: [\n'), /^sources\.yaml:3:1: invalid YAML: /);
  });

  test('several problems are all reported', () => {
    assertConfigError(
      () => parse('global:\n  seriesLimit: -1\n  scrapeTimeout: soon\nsources:\n  - kind: demo\n'),
      /^sources\.yaml:3:3: global\.scrapeTimeout: invalid duration "soon" [^\n]*\nsources\.yaml:2:3: global\.seriesLimit: Too small[^\n]*$/,
    );
  });

  test('a file that cannot be read names the file', async () => {
    await assert.rejects(
      loadConfigFile('/nonexistent/sources.yaml', builtinSources),
      /\/nonexistent\/sources\.yaml: cannot read config file: ENOENT/,
    );
  });

  test('a file on disk is parsed with its own name in errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'config-'));
    const file = join(dir, 'exporter.yaml');
    await writeFile(file, 'sources:\n  - kind: demo\n    timeout: -1s\n');
    await assert.rejects(loadConfigFile(file, builtinSources), (err: Error) =>
      err.message.startsWith(`${file}:3:5: sources[0].timeout: invalid duration`),
    );
  });
});

describe('durations', () => {
  test('Prometheus duration syntax', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('10s'), 10_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('1d'), 86_400_000);
    for (const bad of ['', '10', '1.5s', 's', '30m1h', '10 s', '-1s']) assert.equal(parseDuration(bad), undefined, bad);
  });
});
