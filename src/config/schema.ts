import { z } from 'zod';
import { MODULE_KIND, moduleOptions } from '../sources/module.ts';
import { type OptionsContext, optionsSchema, type SourceDefinition } from '../sources/source.ts';
import { durationAtMost, durationMs, MAX_STALE_AFTER_MS, timeoutMs } from './duration.ts';

/** OTEL_METRICS_EXPORTER's values, and telemetry.exporters'. */
export const METRIC_EXPORTERS = ['prometheus', 'otlp', 'console', 'none'] as const;
/** OTEL_EXPORTER_OTLP_[METRICS_]PROTOCOL's values, and telemetry.otlp.protocol's. */
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;

const SOURCE_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

const globalSchema = z.strictObject({
  /** Collection budget when the scraper sends no X-Prometheus-Scrape-Timeout-Seconds header. */
  scrapeTimeout: timeoutMs.prefault('10s'),
  /** Subtracted from the scraper's own timeout so the answer arrives before it gives up. */
  scrapeTimeoutOffset: timeoutMs.prefault('500ms'),
  /** Default per-source collection timeout. */
  sourceTimeout: timeoutMs.prefault('5s'),
  /** How long a source's setup (and a module's top-level code) may take at startup and reload. */
  setupTimeout: timeoutMs.prefault('30s'),
  /** Most series one instrument may have; a source over it fails that collection instead of being truncated. */
  seriesLimit: z.int().positive().default(10_000),
  /** otel_scope_name (and _version) labels on every series of /metrics; off by default (see the README). */
  scopeLabels: z.boolean().default(false),
  /** The resource (service.name, OTEL_RESOURCE_ATTRIBUTES) as one `target_info` series on /metrics. */
  targetInfo: z.boolean().default(true),
});

/** Where metrics go besides /metrics; every field can be overridden by the standard OTEL_* variables. */
const telemetrySchema = z.strictObject({
  /** Like OTEL_METRICS_EXPORTER. */
  exporters: z
    .array(z.enum(METRIC_EXPORTERS))
    .min(1)
    .refine((names) => !names.includes('none') || names.length === 1, '"none" cannot be combined with other exporters')
    .optional(),
  otlp: z
    .strictObject({
      protocol: z.enum(OTLP_PROTOCOLS).optional(),
      endpoint: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
      headers: z.record(z.string(), z.string()).optional(),
      compression: z.enum(['gzip', 'none']).optional(),
      /** Like OTEL_METRIC_EXPORT_INTERVAL and OTEL_METRIC_EXPORT_TIMEOUT. */
      interval: durationMs.optional(),
      exportTimeout: timeoutMs.optional(),
      /** Like OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: one request to the collector. */
      requestTimeout: timeoutMs.optional(),
    })
    .optional(),
});

const sourceBase = {
  name: z.string().regex(SOURCE_NAME, 'must start with a letter or _ and contain only letters, digits, _ . -').optional(),
  timeout: timeoutMs.optional(),
  /** scrape: collected by each scrape or push; interval: polled in the background, scrapes read the latest result. */
  mode: z.enum(['scrape', 'interval']).default('scrape'),
  /** Scrape mode: a successful result younger than this is reused, and concurrent collections share one. */
  minInterval: durationMs.optional(),
  /** Interval mode: time between polls. */
  interval: durationMs.optional(),
  /** Interval mode: the latest successful poll counts as failed (`stale`) once older than this. */
  staleAfter: durationAtMost(MAX_STALE_AFTER_MS).optional(),
};

/** The schema of one config file (paths in it are relative to `context.configDir`), one `sources[]` variant per kind. */
export function configSchema(definitions: readonly SourceDefinition[], context: OptionsContext) {
  const variants = [
    ...definitions.map((d) =>
      optionsSchema(d, context)
        .extend({ ...sourceBase, kind: z.literal(d.kind) })
        .strict(),
    ),
    moduleOptions(context)
      .extend({ ...sourceBase, kind: z.literal(MODULE_KIND) })
      .strict(),
  ];
  const kinds = [...definitions.map((d) => d.kind), MODULE_KIND];
  const source = z.discriminatedUnion('kind', variants as [(typeof variants)[number], ...(typeof variants)[number][]], {
    error: (issue) => {
      if (issue.code !== 'invalid_union') return undefined;
      const given = (issue.input as { kind?: unknown } | undefined)?.kind;
      return given === undefined
        ? `required field is missing (one of: ${kinds.join(', ')})`
        : `unknown source kind ${JSON.stringify(given)} (expected one of: ${kinds.join(', ')})`;
    },
  });
  return z.strictObject({
    global: globalSchema.prefault({}),
    telemetry: telemetrySchema.optional(),
    sources: z.array(source).min(1, 'at least one source is required'),
  });
}

export type GlobalConfig = z.output<typeof globalSchema>;
/** One `sources[]` entry: the common fields, plus the fields its kind declares. */
export type SourceEntry = z.output<z.ZodObject<typeof sourceBase>> & { kind: string } & Record<string, unknown>;
export type TelemetryConfig = z.output<typeof telemetrySchema>;
export interface Config {
  global: GlobalConfig;
  telemetry?: TelemetryConfig;
  sources: SourceEntry[];
}
