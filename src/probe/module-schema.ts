import { z } from 'zod';
import { allowlistSchema } from './allowlist.ts';

/** A query parameter a module lets through to its templates: `{{params.NAME}}`. */
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Names /probe uses itself: a module cannot take them as extra parameters. */
const RESERVED_PARAMS = ['module', 'target'];

/** Where a module's target goes and which other query parameters it accepts. */
const probeSchema = z.strictObject({
  /** http modules: the target replaces the host[:port] of `url` (host) or is the whole URL (url). */
  target: z.enum(['host', 'url']).default('host'),
  params: z
    .array(
      z
        .string()
        .regex(PARAM_NAME, 'must be a letter or _, then letters, digits or _')
        .refine((name) => !RESERVED_PARAMS.includes(name), 'module and target are /probe parameters of their own'),
    )
    .default([]),
});

export type ProbeSettings = z.output<typeof probeSchema>;

/** What a `modules[]` entry has beyond a source's fields. */
export const probeModuleFields = {
  probe: probeSchema.prefault({}),
  /** Which targets the module may be given; without it none (the agreed default: nothing is allowed unless listed). */
  allow: allowlistSchema().default({}),
};
