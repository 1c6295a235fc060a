// An example source: how many files wait in a directory, and how many bytes they hold.
// Build it with `npm run build:examples`; sources.yaml beside it loads the result.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { defineSource, resolveConfigPath } from 'custom-exporter';
import { z } from 'zod';

export default defineSource({
  kind: 'inbox',
  description: 'Files waiting in a directory',
  // The fields of `options:` in the config; check-config validates them with this schema.
  // A function of the config file, so the directory may be given relative to it, as every path in the config is.
  options: ({ configDir }) =>
    z.strictObject({
      directory: z
        .string()
        .min(1)
        .transform((path) => resolveConfigPath(configDir, path)),
      /** Only names ending with this count, e.g. ".csv". */
      suffix: z.string().default(''),
    }),
  setup({ meter, options }) {
    const files = meter.createObservableGauge('inbox_files', { description: 'Files waiting in the inbox' });
    const bytes = meter.createObservableGauge('inbox_bytes', { description: 'Size of the files waiting in the inbox', unit: 'By' });
    // Runs on every scrape, under the source's timeout; what it observes is what that scrape shows.
    meter.addBatchObservableCallback(
      async (result) => {
        const names = (await readdir(options.directory)).filter((name) => name.endsWith(options.suffix));
        const sizes = await Promise.all(names.map(async (name) => (await stat(join(options.directory, name))).size));
        const labels = { directory: options.directory };
        result.observe(files, names.length, labels);
        result.observe(
          bytes,
          sizes.reduce((sum, size) => sum + size, 0),
          labels,
        );
      },
      [files, bytes],
    );
  },
});
