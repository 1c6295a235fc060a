import { z } from 'zod';
import { readableFile } from './config-path.ts';
import { readRegularFile } from './untrusted/bounded-read.ts';

// A credential is short; a larger file is a mistake.
const MAX_SECRET_BYTES = 64 * 1024;

/**
 * A credential in the config: given inline (`value`), read from a file (`file`) or from the environment (`env`).
 * The file and the variable must exist when the config is loaded: checked here, so check-config, start and
 * reload agree and the error names the field (issue 11).
 */
export function secretSchema(configDir: string) {
  return z
    .strictObject({
      value: z.string().optional(),
      file: readableFile(configDir).optional(),
      env: z
        .string()
        .min(1)
        .refine((name) => process.env[name] !== undefined, { error: (issue) => `environment variable ${String(issue.input)} is not set` })
        .optional(),
    })
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
  // Read like a file source's file: a FIFO or device fails at once instead of blocking an I/O thread (issue 11).
  const read = async () =>
    new TextDecoder().decode(await readRegularFile(file, { maxBytes: MAX_SECRET_BYTES, field: 'the limit for secrets' })).trim();
  try {
    await read();
  } catch (err) {
    // The message names the file already.
    throw new Error(`${what}: ${(err as Error).message}`);
  }
  return read;
}
