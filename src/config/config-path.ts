import { dirname, resolve } from 'node:path';
import { z } from 'zod';

// The directory of the config file being parsed. Parsing is synchronous, so one variable set around it is enough.
let baseDir = process.cwd();

/** A file path in the config file: a relative one is resolved against the config file's directory, as Prometheus does. */
export const configPath = z
  .string()
  .min(1, 'must not be empty')
  .transform((path) => resolve(baseDir, path));

/** Runs `parse` with relative `configPath` fields resolved against the directory of `file`. */
export function relativeTo<T>(file: string, parse: () => T): T {
  const previous = baseDir;
  baseDir = resolve(dirname(file));
  try {
    return parse();
  } finally {
    baseDir = previous;
  }
}
