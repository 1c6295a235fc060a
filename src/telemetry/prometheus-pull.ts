import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import type { MetricProducer, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Logger } from '../logging.ts';

/** Raised when a collection does not finish within the scrape's budget. */
export class CollectTimeoutError extends Error {
  override name = 'CollectTimeoutError';
}

// Collection is bounded by its own deadline; this grace covers the bookkeeping after it.
const GRACE_MS = 250;

/**
 * The Prometheus pull side: the SDK's PrometheusExporter as a reader (no server of its own), collected
 * with a timeout and serialized into the text exposition format.
 */
export class PrometheusPull {
  readonly reader: PrometheusExporter;
  readonly #serializer = new PrometheusSerializer(undefined, false, undefined, false, true);
  readonly #seriesLimit: number;
  readonly #logger: Logger;
  readonly #overflowing = new Set<string>();

  constructor(producers: MetricProducer[], seriesLimit: number, logger: Logger) {
    this.reader = new PrometheusExporter({ preventServerStart: true, metricProducers: producers });
    this.#seriesLimit = seriesLimit;
    this.#logger = logger;
  }

  /** One scrape: every metric, as exposition text, or a rejection when collection fails as a whole. */
  async scrape(timeoutMs: number): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CollectTimeoutError(`collection did not finish within ${timeoutMs} ms`)), timeoutMs + GRACE_MS);
    });
    try {
      const { resourceMetrics, errors } = await Promise.race([this.reader.collect({ timeoutMillis: timeoutMs }), timeout]);
      for (const err of errors) this.#logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'collection error');
      this.#warnOverflow(resourceMetrics);
      return this.#serializer.serialize(resourceMetrics);
    } finally {
      clearTimeout(timer);
    }
  }

  // The SDK folds series beyond the limit of a synchronous instrument into one `otel_metric_overflow` series.
  #warnOverflow(resourceMetrics: ResourceMetrics): void {
    for (const { metrics } of resourceMetrics.scopeMetrics) {
      for (const metric of metrics) {
        if (metric.dataPoints.length < this.#seriesLimit) continue;
        if (!metric.dataPoints.some((p) => 'otel.metric.overflow' in p.attributes)) continue;
        const name = metric.descriptor.name;
        if (this.#overflowing.has(name)) continue;
        this.#overflowing.add(name);
        this.#logger.warn(
          { metric: name, limit: this.#seriesLimit },
          'instrument exceeded the series limit; further series are merged into otel_metric_overflow="true"',
        );
      }
    }
  }
}
