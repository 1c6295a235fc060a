import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** An executable `/bin/sh` script `name` in `dir` running `body`; returns its path. */
export async function shellScript(dir: string, name: string, body: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}
