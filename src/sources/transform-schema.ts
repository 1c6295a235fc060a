import { z } from 'zod';
import { checkTimeZone, compileFormat } from './time-format.ts';

/**
 * The `transform:` list of a metric: steps applied in order to the value its `path` found, before `valueMap` and
 * the conversion to a number (run by untrusted/transform-value.ts). Everything a step needs is checked here, when
 * the config is loaded.
 */

/** How many capturing groups `pattern` (a valid RegExp source) has: an empty alternative matches and shows them. */
const captureGroups = (pattern: string) => new RegExp(`${pattern}|`).exec('')!.length - 1;

const regexStep = z.strictObject({
  /** A JavaScript regular expression; the group named `value`, else the first group, is the step's result. */
  regex: z.string().superRefine((pattern, ctx) => {
    try {
      new RegExp(pattern);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return;
    }
    if (captureGroups(pattern) === 0) ctx.addIssue({ code: 'custom', message: 'needs a capturing group: ( ) around the value' });
  }),
});

const timeFormat = z.strictObject({
  /** `rfc3339`, `iso8601` or a layout such as `%d/%m/%Y %H:%M:%S`. */
  format: z.string(),
  /** For times without an offset: UTC or an IANA zone such as Europe/Berlin. */
  timeZone: z.string().optional(),
});

const parseTimeStep = z.strictObject({
  parseTime: z
    .union([z.string().transform((format) => ({ format, timeZone: undefined })), timeFormat])
    .superRefine(({ format, timeZone }, ctx) => {
      try {
        compileFormat(format);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `format ${JSON.stringify(format)}: ${(err as Error).message}` });
      }
      if (timeZone === undefined) return;
      if (format === 'rfc3339')
        ctx.addIssue({ code: 'custom', path: ['timeZone'], message: 'an RFC 3339 time has its own offset: leave out timeZone' });
      try {
        checkTimeZone(timeZone);
      } catch {
        ctx.addIssue({
          code: 'custom',
          path: ['timeZone'],
          message: `unknown time zone ${JSON.stringify(timeZone)} (UTC or an IANA name)`,
        });
      }
    })
    .transform(({ format, timeZone }) => ({ format, timeZone: timeZone ?? 'UTC' })),
});

const scaleStep = z.strictObject({ scale: z.number() });

const transformStep = z.union([z.enum(['trim', 'lowercase']), regexStep, parseTimeStep, scaleStep], {
  error: (issue) =>
    issue.code === 'invalid_union' ? 'a step is trim, lowercase, or one of { regex: … }, { parseTime: … }, { scale: <number> }' : undefined,
});

export type TransformStep = z.output<typeof transformStep>;

export const transformSchema = z.array(transformStep).min(1, 'give at least one step, or leave out transform');
