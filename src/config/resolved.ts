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
}

/** When a source is collected: by each scrape (results reused within minInterval) or by a background poll. */
export type CollectionPolicy =
  | { readonly mode: 'scrape'; readonly minIntervalMs: number }
  | { readonly mode: 'interval'; readonly intervalMs: number; readonly staleAfterMs: number };
