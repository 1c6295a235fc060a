// The chart's documented API: every key path of values.yaml down to where values.schema.json stops
// listing the properties (below that, a value is a Kubernetes structure or the exporter's config).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { chartDir } from '../support/helm.ts';

interface Schema {
  $ref?: string;
  additionalProperties?: unknown;
  properties?: Record<string, Schema>;
  definitions?: Record<string, Schema>;
}

export const valuesSchema = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8')) as Schema;
export const defaultValues = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as Record<string, unknown>;

function resolve(schema: Schema | undefined): Schema | undefined {
  if (!schema?.$ref) return schema;
  return resolve(valuesSchema.definitions?.[schema.$ref.split('/').pop() ?? '']);
}

/** [dotted key, default value] for every documented key. */
export function valueKeys(): [string, unknown][] {
  const keys: [string, unknown][] = [];
  const walk = (value: unknown, schema: Schema | undefined, path: string) => {
    const s = resolve(schema);
    // global stays open (umbrella charts pass their own keys down) but lists the keys this chart reads.
    const descend = (s?.additionalProperties === false || path === 'global') && s?.properties && path !== 'config';
    if (descend && s.properties) {
      for (const [key, child] of Object.entries(s.properties)) {
        const nested = (value as Record<string, unknown> | undefined)?.[key];
        walk(nested, child, path ? `${path}.${key}` : key);
      }
    } else {
      keys.push([path, value]);
    }
  };
  walk(defaultValues, valuesSchema, '');
  return keys;
}
