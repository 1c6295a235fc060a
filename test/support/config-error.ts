import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/config/yaml-document.ts';
import { builtinSources } from '../../src/sources/registry.ts';

/** `run` throws a ConfigError whose message is exactly `expected` (a string) or matches it (a RegExp). */
export function assertConfigError(run: () => unknown, expected: string | RegExp): void {
  assert.throws(run, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    if (typeof expected === 'string') assert.equal(err.message, expected);
    else assert.match(err.message, expected);
    return true;
  });
}

/** The config file `yaml`, named sources.yaml, is refused with `expected` (see assertConfigError). */
export function assertConfigRejects(yaml: string, expected: string | RegExp): void {
  assertConfigError(() => parseConfig(yaml, 'sources.yaml', builtinSources), expected);
}
