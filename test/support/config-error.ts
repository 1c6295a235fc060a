import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/config/yaml-document.ts';
import { builtinSources } from '../../src/sources/registry.ts';
import { type CliRun, logLines, runCli } from './cli.ts';

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

/** check-config, then start (which must exit before listening); both must reject the file the same way. */
export async function bothReject(file: string, problem: RegExp, env: NodeJS.ProcessEnv = {}): Promise<{ check: CliRun; start: CliRun }> {
  const check = await runCli(['check-config', file], { env });
  assert.equal(check.code, 2, check.stderr);
  assert.match(check.stderr, problem);
  assert.doesNotMatch(check.stderr, /\n\s+at /, 'no stack trace');
  const start = await runCli([`--config.file=${file}`, '--log.format=json', '--web.listen-address=127.0.0.1:0'], { env });
  assert.equal(start.code, 2, start.stderr);
  const failure = logLines(start.stderr).find((l) => l.msg === 'invalid configuration');
  assert.ok(failure, start.stderr);
  assert.match(String(failure.err ?? ''), problem);
  return { check, start };
}

/** `text` as a regular expression matching itself. */
export const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
