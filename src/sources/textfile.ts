import { glob } from 'node:fs/promises';
import { z } from 'zod';
import { instrumentOptions, SELF_METRICS } from '../telemetry/self-metrics.ts';
import { CollectionError } from './collection-error.ts';
import { configPath } from './config-path.ts';
import { readPrometheusText } from './prometheus-output.ts';
import { defineSource } from './source.ts';
import { readRegularFile } from './untrusted/bounded-read.ts';
import { byteSize } from './untrusted/byte-size.ts';

/**
 * The `*.prom` files that cron jobs write, read as node_exporter's textfile collector reads them
 * (collector/textfile.go): every file the glob matches, per collection; the same family in several files is
 * merged when its type, HELP and unit agree. A file that cannot be read, parsed or merged is skipped, the others
 * are exported, and custom_exporter_textfile_scrape_error says so (the log says why).
 */
export const textfileSource = defineSource({
  kind: 'textfile',
  description: "Prometheus text files (*.prom) written by other jobs, like node_exporter's textfile collector",
  options: ({ configDir }) =>
    z.strictObject({
      /** A glob of the files, such as `/var/lib/node_exporter/textfile/*.prom`; relative to the config file. */
      path: configPath(configDir),
      /** More matching files fail the collection with reason `too_large`. */
      maxFiles: z.int().min(1).max(10_000).default(100),
      /** A larger file is skipped (and counts as a scrape error). */
      maxFileSize: byteSize.prefault('1MiB'),
    }),
  setup({ name, meter, options, logger, collectionSignal, seriesLimit, produce }) {
    const { textfileMtime, textfileScrapeError } = SELF_METRICS;
    const mtime = meter.createObservableGauge(textfileMtime.name, instrumentOptions(textfileMtime));
    const scrapeError = meter.createObservableGauge(textfileScrapeError.name, instrumentOptions(textfileScrapeError));
    const startTime = Date.now();
    // Each file's failure as last logged: a file that keeps failing the same way is logged once, not every scrape.
    let logged = new Map<string, string>();
    meter.addBatchObservableCallback(
      async (result) => {
        const signal = collectionSignal();
        // Loaded by the first textfile source, not at startup (idle memory: bench/).
        const [{ familiesToMetrics }, { MergedFamilies }] = await Promise.all([
          import('./prometheus-families.ts'),
          import('./textfile-merge.ts'),
        ]);
        const merged = new MergedFamilies(seriesLimit);
        const failures = new Map<string, string>();
        for (const file of await matchingFiles(options.path, options.maxFiles)) {
          signal.throwIfAborted();
          try {
            // One open descriptor read to its end: a file replaced by rename meanwhile is read whole, old or new.
            const bytes = await readRegularFile(file, {
              maxBytes: options.maxFileSize,
              field: 'maxFileSize',
              signal,
              onStat: (stats) => result.observe(mtime, stats.mtimeMs / 1000, { source: name, file }),
            });
            const families = await readPrometheusText(bytes, { what: file, seriesLimit }, signal);
            // Converted alone first, so that what only conversion refuses (a histogram without +Inf, the
            // exporter's own names) skips this file, not the whole source.
            familiesToMetrics(families, file, startTime);
            merged.add(file, families);
          } catch (err) {
            if (signal.aborted) throw err;
            failures.set(file, (err as Error).message);
          }
        }
        result.observe(scrapeError, failures.size > 0 ? 1 : 0, { source: name });
        for (const [file, message] of failures) {
          if (logged.get(file) !== message) logger.warn({ file, err: message }, 'textfile skipped');
        }
        logged = failures;
        produce(familiesToMetrics(merged.families(), options.path, startTime));
      },
      [mtime, scrapeError],
    );
  },
});

/** The files `pattern` matches, sorted (the order families merge in); more than `maxFiles` fail the collection. */
async function matchingFiles(pattern: string, maxFiles: number): Promise<string[]> {
  const files: string[] = [];
  for await (const file of glob(pattern)) {
    if (files.length === maxFiles) {
      throw new CollectionError('too_large', `more than ${maxFiles} files match ${pattern} (maxFiles)`);
    }
    files.push(file);
  }
  return files.sort();
}
