import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/yaml-document.ts';

/** `run` throws a ConfigError whose message is exactly `expected` (a string) or matches it (a RegExp). */
export function assertConfigError(run: () => unknown, expected: string | RegExp): void {
  assert.throws(run, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    if (typeof expected === 'string') assert.equal(err.message, expected);
    else assert.match(err.message, expected);
    return true;
  });
}
