import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';

// The project's copy of the official metrics.proto; google/protobuf/timestamp.proto comes from protobufjs' common types.
const PROTO = new URL('../../src/exposition/proto/metrics.proto', import.meta.url).pathname;

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';

/** A decoded MetricFamily: fields that were not written are absent; int64 as numbers, enums by name. */
export interface DecodedFamily {
  name?: string;
  help?: string;
  type?: 'COUNTER' | 'GAUGE' | 'SUMMARY' | 'UNTYPED' | 'HISTOGRAM' | 'GAUGE_HISTOGRAM';
  unit?: string;
  metric?: DecodedMetric[];
}

export interface DecodedMetric {
  label?: { name?: string; value?: string }[];
  gauge?: { value?: number };
  counter?: { value?: number; createdTimestamp?: { seconds?: number; nanos?: number } };
  histogram?: {
    sampleCount?: number;
    sampleSum?: number;
    bucket?: { cumulativeCount?: number; upperBound?: number }[];
    createdTimestamp?: { seconds?: number; nanos?: number };
    schema?: number;
    zeroThreshold?: number;
    zeroCount?: number;
    negativeSpan?: { offset?: number; length?: number }[];
    negativeDelta?: number[];
    positiveSpan?: { offset?: number; length?: number }[];
    positiveDelta?: number[];
  };
}

let metricFamily: protobuf.Type | undefined;

/** Every length-delimited MetricFamily of a protobuf exposition body, decoded by protobufjs. */
export function decodeFamilies(body: Uint8Array): DecodedFamily[] {
  metricFamily ??= protobuf.loadSync(PROTO).lookupType('io.prometheus.client.MetricFamily');
  const reader = protobuf.Reader.create(body);
  const families: DecodedFamily[] = [];
  while (reader.pos < reader.len) {
    const message = metricFamily.decodeDelimited(reader);
    families.push(metricFamily.toObject(message, { longs: Number, enums: String, defaults: false }) as DecodedFamily);
  }
  return families;
}

const KNOWN = new URL('../fixtures/sources/known-observations.ts', import.meta.url).pathname;

/**
 * A config file with one module source of known values (fixtures/sources/known-observations.ts), after `global` (YAML
 * lines of the `global:` section, such as `  histograms: { aggregation: exponential }`); returns its path.
 */
export async function knownObservationsConfig(global = ''): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'protobuf-'));
  const file = join(dir, 'sources.yaml');
  const head = global === '' ? '' : `global:\n${global}\n`;
  await writeFile(file, `${head}sources:\n  - kind: module\n    name: known\n    module: ${KNOWN}\n`);
  return file;
}
