import { z } from 'zod';
import { readableFile } from './config-path.ts';
import type { Redactor } from './redact.ts';
import { readRegularFile } from './untrusted/bounded-read.ts';

// A credential is short; a larger file is a mistake.
const MAX_SECRET_BYTES = 64 * 1024;

/** Why a secret's text cannot be used in its field (such as "does not hold an http:// or https:// URL"), or undefined. */
export type TextCheck = (text: string) => string | undefined;

/**
 * A credential in the config: given inline (`value`), read from a file (`file`) or from the environment (`env`).
 * The file and the variable must exist when the config is loaded: checked here, so check-config, start and
 * reload agree and the error names the field (issue 11). `check`, when given, is run on an inline value and on
 * the variable's value at load; a file's text is checked when it is read.
 */
export function secretSchema(configDir: string, check?: TextCheck) {
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
      // The reason never quotes the text: it is a secret.
      const valueProblem = secret.value === undefined ? undefined : check?.(secret.value);
      if (valueProblem) ctx.addIssue({ code: 'custom', path: ['value'], message: `the value ${valueProblem}` });
      const variable = secret.env === undefined ? undefined : process.env[secret.env];
      const variableProblem = variable === undefined ? undefined : check?.(variable);
      if (variableProblem)
        ctx.addIssue({ code: 'custom', path: ['env'], message: `environment variable ${secret.env} ${variableProblem}` });
    });
}

export type Secret = z.output<ReturnType<typeof secretSchema>>;

/** A field that takes either plain text (`text`, such as a URL schema) or a secret holding such text. */
export function textOrSecret<T extends z.ZodType<string, string>>(configDir: string, text: T, check?: TextCheck) {
  // Never both: a string fails the secret's object type at once, so zod reports the other branch's own problem.
  return z.union([text, secretSchema(configDir, check)], {
    error: (issue) =>
      issue.input === undefined
        ? 'required field is missing'
        : 'must be a string or a secret: { env: NAME }, { file: path } or { value: text }',
  });
}

/** Reads a secret's current text: a file is read again at every call, a variable looked up again. */
export type SecretReader = () => Promise<string>;

/**
 * Checks that the secret can be read now (a missing variable or file fails the source's start) and returns a
 * reader for each use: a file is read again every time, so a rotated credential is picked up. `check` fails a
 * read whose text cannot be used; `onRead` sees every text that passed it (to hide it from messages). Errors name
 * `what` and the file or variable, never the text.
 */
export async function secretReader(
  secret: Secret,
  what: string,
  { check, onRead }: { check?: TextCheck; onRead?: (text: string) => void } = {},
): Promise<SecretReader> {
  const read = async () => {
    const text = await readSecret(secret, what);
    const problem = check?.(text);
    if (problem) throw new Error(`${what}: ${origin(secret)} ${problem}`);
    onRead?.(text);
    return text;
  };
  await read();
  return read;
}

/** A field given as plain text or as a secret, read at each call; what a secret holds is hidden by `redactor`. */
export async function textReader(field: string | Secret, what: string, redactor: Redactor): Promise<SecretReader> {
  if (typeof field === 'string') return async () => field;
  return secretReader(field, what, { onRead: (text) => redactor.hide(what, text) });
}

/** textReader for each entry of a record (headers, environment variables): all of them read at each call. */
export async function recordReader(
  record: Readonly<Record<string, string | Secret>>,
  what: string,
  redactor: Redactor,
): Promise<() => Promise<Record<string, string>>> {
  const readers = await Promise.all(
    Object.entries(record).map(async ([key, field]) => [key, await textReader(field, `${what}.${key}`, redactor)] as const),
  );
  return async () => Object.fromEntries(await Promise.all(readers.map(async ([key, read]) => [key, await read()] as const)));
}

function origin(secret: Secret): string {
  if (secret.file !== undefined) return `the file ${secret.file}`;
  return secret.env === undefined ? 'the value' : `environment variable ${secret.env}`;
}

async function readSecret(secret: Secret, what: string): Promise<string> {
  if (secret.value !== undefined) return secret.value;
  if (secret.env !== undefined) {
    const value = process.env[secret.env];
    if (value === undefined) throw new Error(`${what}: environment variable ${secret.env} is not set`);
    return value;
  }
  try {
    // Read like a file source's file: a FIFO or device fails at once instead of blocking an I/O thread (issue 11).
    const bytes = await readRegularFile(secret.file!, { maxBytes: MAX_SECRET_BYTES, field: 'the limit for secrets' });
    return new TextDecoder().decode(bytes).trim();
  } catch (err) {
    // The message names the file already.
    throw new Error(`${what}: ${(err as Error).message}`);
  }
}
