import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { configPath } from './config-path.ts';

/** A credential in the config: given inline (`value`), read from a file (`file`) or from the environment (`env`). */
export function secretSchema(configDir: string) {
  return z
    .strictObject({ value: z.string().optional(), file: configPath(configDir).optional(), env: z.string().min(1).optional() })
    .superRefine((secret, ctx) => {
      const given = [secret.value, secret.file, secret.env].filter((v) => v !== undefined).length;
      if (given !== 1) ctx.addIssue({ code: 'custom', message: 'give exactly one of value, file or env' });
    });
}

type Secret = z.output<ReturnType<typeof secretSchema>>;

/**
 * Checks that the secret can be read now (a missing variable or file fails the source's start) and returns a
 * reader for each use: a file is read again every time, so a rotated credential is picked up.
 */
export async function secretReader(secret: Secret, what: string): Promise<() => Promise<string>> {
  if (secret.value !== undefined) {
    const value = secret.value;
    return async () => value;
  }
  if (secret.env !== undefined) {
    const value = process.env[secret.env];
    if (value === undefined) throw new Error(`${what}: environment variable ${secret.env} is not set`);
    return async () => value;
  }
  const file = secret.file!;
  const read = async () => (await readFile(file, 'utf8')).trim();
  try {
    await read();
  } catch (err) {
    throw new Error(`${what}: cannot read ${file}: ${(err as Error).message}`);
  }
  return read;
}
