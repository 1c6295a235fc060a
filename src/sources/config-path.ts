import { resolve } from 'node:path';
import { z } from 'zod';

/** A path named in the config file: a relative one is resolved against the config file's directory, as Prometheus does. */
export function resolveConfigPath(configDir: string, path: string): string {
  return resolve(configDir, path);
}

/** A config field holding a path, resolved against `configDir` (OptionsContext.configDir). */
export function configPath(configDir: string) {
  return z
    .string()
    .min(1, 'must not be empty')
    .transform((path) => resolveConfigPath(configDir, path));
}
