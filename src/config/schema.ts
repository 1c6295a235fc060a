import { z } from 'zod';
import { durationAtMost, durationMs, MAX_STALE_AFTER_MS, timeoutMs } from '../duration.ts';
import { TRANSLATION_STRATEGIES } from '../exposition/metric-names.ts';
import { probeModuleFields } from '../probe/module-schema.ts';
import { MODULE_KIND, moduleOptions } from '../sources/module.ts';
import { type OptionsContext, optionsSchema, type SourceDefinition } from '../sources/source.ts';

/** OTEL_METRICS_EXPORTER's values, and telemetry.exporters'. */
export const METRIC_EXPORTERS = ['prometheus', 'otlp', 'console', 'none'] as const;
/** OTEL_EXPORTER_OTLP_[METRICS_]PROTOCOL's values, and telemetry.otlp.protocol's. */
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;

const SOURCE_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
// OpenTelemetry's instrument name syntax (metrics API, "Instrument name syntax"): names only, no View wildcards.
const INSTRUMENT_NAME = /^[A-Za-z][A-Za-z0-9_.\-/]{0,254}$/;

/** The SDK's defaults for exponential histograms (160 buckets per range, scale 20 at most). */
const EXPONENTIAL_DEFAULTS = { maxSize: 160, maxScale: 20 } as const;
/**
 * Most buckets per range an exponential histogram may have: in text formats each bucket is one `le` line per
 * series (README, Histograms), so a range of 1024 is already 2050 lines for one series.
 */
const MAX_EXPONENTIAL_SIZE = 1024;

/** How a synchronous histogram aggregates: explicit buckets (the SDK's default) or base-2 exponential buckets. */
const histogramFields = {
  aggregation: z.enum(['explicit', 'exponential'], {
    error: (issue) => `${JSON.stringify(issue.input)} is not one of explicit, exponential`,
  }),
  /** Buckets per range (positive, negative); the SDK lowers the scale to stay within it. */
  maxSize: z
    .int()
    .min(2, 'must be at least 2 (an exponential histogram needs two buckets)')
    .max(MAX_EXPONENTIAL_SIZE, `must be at most ${MAX_EXPONENTIAL_SIZE} (each bucket is a line per series in text formats)`),
  /** The finest scale (2^scale buckets per power of 2); OpenTelemetry's scales go from -10 to 20. */
  maxScale: z.int().min(-10, 'must be at least -10').max(20, 'must be at most 20 (the finest scale OpenTelemetry defines)'),
};

const globalHistograms = z.strictObject({
  aggregation: histogramFields.aggregation.default('explicit'),
  maxSize: histogramFields.maxSize.default(EXPONENTIAL_DEFAULTS.maxSize),
  maxScale: histogramFields.maxScale.default(EXPONENTIAL_DEFAULTS.maxScale),
});

/** One instrument's aggregation; what it leaves out comes from global.histograms. */
const instrumentHistogram = z
  .strictObject({
    aggregation: histogramFields.aggregation.optional(),
    maxSize: histogramFields.maxSize.optional(),
    maxScale: histogramFields.maxScale.optional(),
  })
  .refine(
    (h) => h.aggregation !== 'explicit' || (h.maxSize === undefined && h.maxScale === undefined),
    'maxSize and maxScale only apply to aggregation: exponential',
  );

export const globalSchema = z.strictObject({
  /** Collection budget when the scraper sends no X-Prometheus-Scrape-Timeout-Seconds header. */
  scrapeTimeout: timeoutMs.prefault('10s'),
  /** Subtracted from the scraper's own timeout so the answer arrives before it gives up. */
  scrapeTimeoutOffset: timeoutMs.prefault('500ms'),
  /** Default per-source collection timeout. */
  sourceTimeout: timeoutMs.prefault('5s'),
  /** How long a source's setup (and a module's top-level code) may take at startup and reload. */
  setupTimeout: timeoutMs.prefault('30s'),
  /** GET /probe requests run at once; more get 503 with Retry-After (README, Probing many targets). */
  maxConcurrentProbes: z.int().min(1, 'must be at least 1').max(10_000, 'must be at most 10000').default(16),
  /** Most series one instrument may have; a source over it fails that collection instead of being truncated. */
  seriesLimit: z.int().positive().default(10_000),
  /** otel_scope_name (and _version) labels on every series of /metrics; off by default (see the README). */
  scopeLabels: z.boolean().default(false),
  /** The resource (service.name, OTEL_RESOURCE_ATTRIBUTES) as one `target_info` series on /metrics. */
  targetInfo: z.boolean().default(true),
  /** What OpenTelemetry metric names become: OpenTelemetry's translation_strategy (README, Metric names and units). */
  translationStrategy: z
    .enum(TRANSLATION_STRATEGIES, { error: (issue) => `${JSON.stringify(issue.input)} is not one of ${TRANSLATION_STRATEGIES.join(', ')}` })
    .default('UnderscoreEscapingWithSuffixes'),
  /** The aggregation of every source's synchronous histograms, unless the source's `histograms` names the instrument. */
  histograms: globalHistograms.prefault({}),
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
  /** Per synchronous histogram of the source, by its exact instrument name: its aggregation (README, Histograms). */
  histograms: z
    .record(z.string().regex(INSTRUMENT_NAME), instrumentHistogram, {
      error: (issue) => (issue.code === 'invalid_key' ? 'is not an instrument name (a letter, then letters, digits, _ . - /)' : undefined),
    })
    .optional(),
};

/** The schema of one config file (paths in it are relative to `context.configDir`), one `sources[]` variant per kind. */
export function configSchema(definitions: readonly SourceDefinition[], context: OptionsContext) {
  return z.strictObject({
    global: globalSchema.prefault({}),
    telemetry: telemetrySchema.optional(),
    sources: z.array(sourceSchema(definitions, context, {})).min(1, 'at least one source is required'),
    /** Sources run only by GET /probe, each with the target it is given (README, Probing many targets). */
    modules: z.array(sourceSchema(definitions, context, probeModuleFields)).default([]),
  });
}

/** One entry of `sources` (or, with the probe fields, of `modules`): the common fields, plus its kind's own. */
function sourceSchema(definitions: readonly SourceDefinition[], context: OptionsContext, extra: z.ZodRawShape) {
  const variants = [
    ...definitions.map((d) =>
      optionsSchema(d, context)
        .extend({ ...sourceBase, ...extra, kind: z.literal(d.kind) })
        .strict(),
    ),
    moduleOptions(context)
      .extend({ ...sourceBase, ...extra, kind: z.literal(MODULE_KIND) })
      .strict(),
  ];
  const kinds = [...definitions.map((d) => d.kind), MODULE_KIND];
  return z.discriminatedUnion('kind', variants as [(typeof variants)[number], ...(typeof variants)[number][]], {
    error: (issue) => {
      if (issue.code !== 'invalid_union') return undefined;
      const given = (issue.input as { kind?: unknown } | undefined)?.kind;
      return given === undefined
        ? `required field is missing (one of: ${kinds.join(', ')})`
        : `unknown source kind ${JSON.stringify(given)} (expected one of: ${kinds.join(', ')})`;
    },
  });
}

export type GlobalConfig = z.output<typeof globalSchema>;
export type GlobalHistograms = z.output<typeof globalHistograms>;
/** One `sources[]` entry: the common fields, plus the fields its kind declares. */
export type SourceEntry = z.output<z.ZodObject<typeof sourceBase>> & { kind: string } & Record<string, unknown>;
export type TelemetryConfig = z.output<typeof telemetrySchema>;
export interface Config {
  global: GlobalConfig;
  telemetry?: TelemetryConfig;
  sources: SourceEntry[];
  modules: SourceEntry[];
}
