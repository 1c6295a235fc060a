import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

/** One family as prometheus_client's OpenMetrics parser reads it (NaN and infinities as their OpenMetrics spelling). */
export interface ParsedFamily {
  readonly name: string;
  readonly type: string;
  readonly help: string;
  readonly unit: string;
  readonly samples: readonly { readonly name: string; readonly labels: Record<string, string>; readonly value: number | string }[];
}

// Debian's python3-prometheus-client is seen by the system Python only (python3 on PATH may be another one).
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('openmetrics-parser.py', import.meta.url));

/**
 * The strict OpenMetrics parser of Python's prometheus_client (Debian python3-prometheus-client), a parser nobody
 * here wrote. Missing on a developer's machine: the test is skipped; under CI=true it fails (.ci/run installs it).
 */
export function requireOpenMetricsParser(t: Pick<TestContext, 'skip'>): ((body: string) => ParsedFamily[]) | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import prometheus_client.openmetrics.parser'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    const message = `prometheus_client's OpenMetrics parser not found for ${PYTHON} (install it with: apt-get install python3-prometheus-client)`;
    if (process.env.CI === 'true') throw new Error(message);
    t.skip(message);
    return undefined;
  }
  return parseOpenMetrics;
}

/** The families of an OpenMetrics body; throws with the parser's message (and the body) when it rejects it. */
function parseOpenMetrics(body: string): ParsedFamily[] {
  const run = spawnSync(PYTHON, [SCRIPT], { input: body, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`OpenMetrics parser rejected the body: ${run.stderr.trim()}\n${body}`);
  return JSON.parse(run.stdout) as ParsedFamily[];
}
