import { accessSync, constants, statSync } from 'node:fs';
import { configPath } from './config-path.ts';
import { fileType } from './file-type.ts';

/**
 * A path in the config file to a file that must be readable when the config is loaded (a CA bundle, a secret):
 * checked while validating, so `check-config` and start agree, and the error names the field (issue 11).
 */
export const readableFile = configPath.superRefine((path, ctx) => {
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
