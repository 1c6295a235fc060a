import { accessSync, constants, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { fileType } from './untrusted/file-type.ts';

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

/**
 * A path to a file that must be readable when the config is loaded (a CA bundle, a secret): checked while
 * validating, so `check-config` and start agree, and the error names the field (issue 11).
 */
export function readableFile(configDir: string) {
  return configPath(configDir).superRefine((path, ctx) => {
    try {
      const stats = statSync(path);
      if (!stats.isFile()) {
        ctx.addIssue({ code: 'custom', message: `${path} is not a regular file (${fileType(stats)})` });
        return;
      }
      accessSync(path, constants.R_OK);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` });
    }
  });
}
