import { execFileSync } from 'node:child_process';
import type { TestContext } from 'node:test';

/**
 * The path of a system tool the test needs. Missing on a developer's machine: the test is skipped with
 * the install hint. Missing under CI=true: the test fails, since .ci/run installs every tool.
 */
export function requireTool(t: Pick<TestContext, 'skip'>, name: string, install: string): string | undefined {
  const path = toolPath(name);
  if (path === undefined) {
    const message = `${name} not found (install it with: ${install})`;
    if (process.env.CI === 'true') throw new Error(message);
    t.skip(message);
  }
  return path;
}

/** The path of a system tool, or undefined; for setup hooks, whose tests then call requireTool. */
export function toolPath(name: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}
