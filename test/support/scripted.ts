import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScriptedMetric } from '../fixtures/sources/scripted.ts';

const SCRIPTED = new URL('../fixtures/sources/scripted.ts', import.meta.url).pathname;

/** A scripted source (test/fixtures/sources/scripted.ts) reporting `metrics`, as a config entry; its spec file goes in `dir`. */
export async function scriptedSource(dir: string, name: string, metrics: readonly ScriptedMetric[], delayMs = 0): Promise<string> {
  const spec = join(dir, `${name}-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(spec, JSON.stringify(metrics));
  const options = `{ spec: ${JSON.stringify(spec)}, delayMs: ${delayMs} }`;
  return `  - kind: module\n    name: ${name}\n    module: ${SCRIPTED}\n    options: ${options}\n`;
}

/** A new config file with one scripted source reporting `metrics`; returns its path. */
export async function scriptedConfig(metrics: readonly ScriptedMetric[], name = 'scripted'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'exposition-'));
  const file = join(dir, 'sources.yaml');
  await writeFile(file, `sources:\n${await scriptedSource(dir, name, metrics)}`);
  return file;
}
