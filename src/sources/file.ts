import { z } from 'zod';
import { instrumentOptions, SELF_METRICS } from '../telemetry/self-metrics.ts';
import { CollectionError } from './collection-error.ts';
import { configPath } from './config-path.ts';
import { createMapping, metricsMappingSchema } from './json-mapping.ts';
import { producePrometheusText, withOutputCheck } from './prometheus-output.ts';
import { defineSource } from './source.ts';
import { readRegularFile } from './untrusted/bounded-read.ts';
import { byteSize } from './untrusted/byte-size.ts';

/** Reads a JSON file that another job writes, per collection, and maps it to instruments. */
const fileDefinition = defineSource({
  kind: 'file',
  description: 'A JSON (or Prometheus text) file written by another job, mapped to metrics',
  options: ({ configDir }) =>
    z.strictObject({
      /** The JSON file; relative to the config file. */
      path: configPath(configDir),
      /** A larger file fails the collection with reason `too_large` before it is read. */
      maxFileSize: byteSize.prefault('4MiB'),
      /** `json`: mapped by `metrics`; `prometheus`: Prometheus text or OpenMetrics, exported as written. */
      output: z.enum(['json', 'prometheus']).default('json'),
      metrics: metricsMappingSchema.optional(),
    }),
  setup({ name, meter, options, collectionSignal, seriesLimit, produce }) {
    const mapping = options.metrics && createMapping(meter, options.metrics, seriesLimit);
    const startTime = Date.now();
    const age = meter.createObservableGauge(SELF_METRICS.fileAge.name, instrumentOptions(SELF_METRICS.fileAge));
    // The read in progress, and the collection it serves. One read at a time: a read that outlives its collection
    // (a hung mount) is not joined by another, so this source holds at most one of libuv's I/O threads and the
    // other sources and gzip keep the rest; overlapping collections (a scrape and a push) take turns.
    let reading: { done: Promise<void>; signal: AbortSignal } | undefined;
    meter.addBatchObservableCallback(
      async (result) => {
        while (reading) {
          if (reading.signal.aborted)
            throw new CollectionError('timeout', `the previous read of ${options.path} has not finished (a hung mount?)`);
          await reading.done;
        }
        const signal = collectionSignal();
        const read = readRegularFile(options.path, {
          maxBytes: options.maxFileSize,
          field: 'maxFileSize',
          signal,
          onStat: (stats) => result.observe(age, Math.max(0, Date.now() - stats.mtimeMs) / 1000, { source: name }),
        });
        const current = {
          signal,
          done: read.then(
            () => {},
            () => {},
          ),
        };
        reading = current;
        void current.done.then(() => {
          if (reading === current) reading = undefined;
        });
        if (options.output === 'prometheus' || !mapping)
          await producePrometheusText(await read, options.path, { produce, seriesLimit, collectionSignal }, startTime);
        else await mapping.observe({ bytes: await read, format: 'json', what: options.path }, result, signal);
      },
      [...(mapping?.instruments ?? []), age],
    );
  },
});

export const fileSource = withOutputCheck(fileDefinition);
