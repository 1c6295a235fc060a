import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseConfig } from '../src/config/load.ts';
import { builtinSources } from '../src/sources/registry.ts';
import { assertConfigRejects } from './support/config-error.ts';

const parse = (yaml: string) => parseConfig(yaml, 'sources.yaml', builtinSources);

describe('collection policy fields', () => {
  test('scrape mode is the default, with no minInterval', () => {
    assert.deepEqual(parse('sources: [{ kind: demo }]').sources[0]!.collection, { mode: 'scrape', minIntervalMs: 0 });
    assert.deepEqual(parse('sources: [{ kind: demo, minInterval: 15s }]').sources[0]!.collection, {
      mode: 'scrape',
      minIntervalMs: 15_000,
    });
  });

  test('interval mode: staleAfter defaults to two intervals plus the timeout', () => {
    const source = parse('sources: [{ kind: demo, mode: interval, interval: 1m, timeout: 10s }]').sources[0]!;
    assert.deepEqual(source.collection, { mode: 'interval', intervalMs: 60_000, staleAfterMs: 130_000 });
  });

  test('a field of the other mode, a missing interval and a bad duration name file, line and field', () => {
    assertConfigRejects(
      'sources:\n  - kind: demo\n    minInterval: 10s\n    mode: interval\n    interval: 1m\n',
      'sources.yaml:3:5: sources[0].minInterval: only applies to mode: scrape',
    );
    assertConfigRejects(
      'sources:\n  - kind: demo\n    interval: 1m\n',
      'sources.yaml:3:5: sources[0].interval: only applies to mode: interval',
    );
    assertConfigRejects(
      'sources:\n  - kind: demo\n    mode: interval\n',
      'sources.yaml:3:5: sources[0].mode: mode: interval needs an interval (such as 30s)',
    );
    assertConfigRejects(
      'sources:\n  - kind: demo\n    mode: poll\n',
      'sources.yaml:3:5: sources[0].mode: Invalid option: expected one of "scrape"|"interval"',
    );
    assertConfigRejects(
      'sources:\n  - kind: demo\n    minInterval: soon\n',
      'sources.yaml:3:5: sources[0].minInterval: invalid duration "soon" (expected a positive Prometheus duration such as 500ms, 10s or 1m30s)',
    );
  });
});
