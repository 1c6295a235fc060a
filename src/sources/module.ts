import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { configPath } from './config-path.ts';
import type { OptionsContext, SourceDefinition } from './source.ts';

/**
 * `kind: module`: a source written with `defineSource` in its own file (JavaScript, or TypeScript that Node can
 * strip), named by the config and given its own `options`, which its schema validates when the config is loaded.
 */
export const MODULE_KIND = 'module';

export function moduleOptions({ configDir }: OptionsContext) {
  return z.strictObject({
    /** The file whose default export is a source definition; relative to the config file. */
    module: configPath(configDir),
    /** Validated by the schema the module declares. */
    options: z.record(z.string(), z.unknown()).default({}),
  });
}

/**
 * Imports the source definition a file exports by default. The URL carries the file's hash, so a reload
 * picks up a changed file while an unchanged one stays the same module (and its source keeps running).
 */
export async function importSourceModule(file: string): Promise<SourceDefinition> {
  const hash = createHash('sha256')
    .update(await readFile(file))
    .digest('hex')
    .slice(0, 16);
  const exports = (await import(`${pathToFileURL(file).href}?sha256=${hash}`)) as { default?: unknown };
  const definition = exports.default;
  if (!isSourceDefinition(definition)) {
    throw new Error('its default export is not a source definition (export default defineSource({ kind, description, options, setup }))');
  }
  return definition;
}

function isSourceDefinition(value: unknown): value is SourceDefinition {
  if (typeof value !== 'object' || value === null) return false;
  const d = value as Partial<Record<keyof SourceDefinition, unknown>>;
  const options = d.options as { safeParse?: unknown } | undefined;
  return (
    typeof d.kind === 'string' &&
    typeof d.setup === 'function' &&
    (typeof options === 'function' || typeof options?.safeParse === 'function')
  );
}
