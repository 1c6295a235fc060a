import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';

/** The exposition formats a scraper may ask for, named as in Prometheus' `scrape_protocols` setting. */
export type ScrapeProtocol =
  | 'PrometheusText0.0.4'
  | 'PrometheusText1.0.0'
  | 'OpenMetricsText0.0.1'
  | 'OpenMetricsText1.0.0'
  | 'PrometheusProto';

/**
 * How names outside the classic `[a-zA-Z_:][a-zA-Z0-9_:]*` charset are written, by Prometheus' `escaping` schemes:
 * `allow-utf-8` keeps them (quoted in text), the others rewrite them.
 */
export type Escaping = 'allow-utf-8' | 'underscores' | 'dots' | 'values';

/** What one scrape gets: a protocol and the escaping of names in it. */
export interface ExpositionFormat {
  readonly protocol: ScrapeProtocol;
  readonly escaping: Escaping;
}

/** Writes one collection in one format. A writer keeps caches between collections: one writer per format. */
export interface ExpositionWriter {
  serialize(resourceMetrics: ResourceMetrics): Buffer;
}
