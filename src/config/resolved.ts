import type { AllowlistConfig } from '../probe/allowlist.ts';
import type { ProbeSettings } from '../probe/module-schema.ts';
import type { SourceDefinition } from '../sources/source.ts';
import type { GlobalConfig, TelemetryConfig } from './schema.ts';

/** The validated configuration the rest of the exporter runs on. */
export interface ResolvedConfig {
  /** The file it came from, or undefined for the built-in default. */
  readonly file: string | undefined;
  readonly global: GlobalConfig;
  /** The config file's telemetry section; the OTEL_* environment overrides it. */
  readonly telemetry: TelemetryConfig | undefined;
  readonly sources: readonly ResolvedSource[];
  /** Run only by GET /probe, each with its target. */
  readonly modules: readonly ResolvedModule[];
}

/** A `modules[]` entry: a source template, where its target goes, and which targets it may be given. */
export interface ResolvedModule {
  readonly source: ResolvedSource;
  readonly probe: ProbeSettings;
  readonly allow: AllowlistConfig;
}

export interface ResolvedSource {
  readonly name: string;
  readonly definition: SourceDefinition;
  readonly timeoutMs: number;
  /** How long its setup may take (global.setupTimeout). */
  readonly setupTimeoutMs: number;
  readonly collection: CollectionPolicy;
  readonly options: Record<string, unknown>;
  /** For `kind: module`: the file the definition was loaded from. */
  readonly module?: string;
  /** How its synchronous histograms aggregate (global.histograms, and the source's `histograms` by instrument). */
  readonly histograms: HistogramAggregations;
}

/** A synchronous histogram's aggregation: explicit buckets, or base-2 exponential ones within a size and scale. */
export type HistogramAggregation =
  | { readonly kind: 'explicit' }
  | { readonly kind: 'exponential'; readonly maxSize: number; readonly maxScale: number };

export interface HistogramAggregations {
  /** For every histogram not named in `instruments`. */
  readonly default: HistogramAggregation;
  /** By exact instrument name. */
  readonly instruments: Readonly<Record<string, HistogramAggregation>>;
}

/** When a source is collected: by each scrape (results reused within minInterval) or by a background poll. */
export type CollectionPolicy =
  | { readonly mode: 'scrape'; readonly minIntervalMs: number }
  | { readonly mode: 'interval'; readonly intervalMs: number; readonly staleAfterMs: number };
