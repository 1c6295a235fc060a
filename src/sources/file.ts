import { readFile, stat } from 'node:fs/promises';
import { z } from 'zod';
import { instrumentOptions, SELF_METRICS } from '../telemetry/self-metrics.ts';
import { CollectionError } from './collection-error.ts';
import { configPath } from './config-path.ts';
import { createMapping, metricsMappingSchema, parseJson } from './json-mapping.ts';
import { defineSource } from './source.ts';

/** Reads a JSON file that another job writes, per collection, and maps it to instruments. */
export const fileSource = defineSource({
  kind: 'file',
  description: 'A JSON file written by another job, mapped to metrics',
  options: ({ configDir }) =>
    z.strictObject({
      /** The JSON file; relative to the config file. */
      path: configPath(configDir),
      metrics: metricsMappingSchema,
    }),
  setup({ name, meter, options }) {
    const mapping = createMapping(meter, options.metrics);
    const age = meter.createObservableGauge(SELF_METRICS.fileAge.name, instrumentOptions(SELF_METRICS.fileAge));
    meter.addBatchObservableCallback(
      async (result) => {
        let text: string;
        try {
          const modified = (await stat(options.path)).mtimeMs;
          result.observe(age, Math.max(0, Date.now() - modified) / 1000, { source: name });
          text = await readFile(options.path, 'utf8');
        } catch (err) {
          throw new CollectionError('error', `cannot read ${options.path}: ${(err as Error).message}`);
        }
        mapping.observe(parseJson(text, options.path), result);
      },
      [...mapping.instruments, age],
    );
  },
});
