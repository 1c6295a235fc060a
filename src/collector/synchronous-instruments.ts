import type { Meter } from '@opentelemetry/api';
import { emptyResource } from '@opentelemetry/resources';
import { MeterProvider, type MetricData, MetricReader } from '@opentelemetry/sdk-metrics';

// The SDK's name for the one series it folds every attribute set past the cardinality limit into.
const OVERFLOW = 'otel.metric.overflow';

/** A reader collected only on demand, by the source collector. */
class OnDemandReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/**
 * One source's synchronous instruments (counter.add, histogram.record), in a MeterProvider of their own, created
 * the first time the source asks for one. The SDK cannot delete an instrument, so instruments on the shared
 * provider would be exported forever after a reload removed or restarted their source (issue 11); here they
 * live and go with the source, and are exported only through the source collector, like its observable ones,
 * with its series limit checked the same way.
 */
export class SynchronousInstruments {
  readonly #scope: string;
  readonly #seriesLimit: number;
  #meter: Meter | undefined;
  #reader: OnDemandReader | undefined;

  constructor(scope: string, seriesLimit: number) {
    this.#scope = scope;
    this.#seriesLimit = seriesLimit;
  }

  get meter(): Meter {
    if (this.#meter === undefined) {
      // One series past the limit is the SDK's overflow series, which is how going over the limit shows.
      const reader = new OnDemandReader({ cardinalitySelector: () => this.#seriesLimit + 1 });
      this.#meter = new MeterProvider({ resource: emptyResource(), readers: [reader] }).getMeter(this.#scope);
      this.#reader = reader;
    }
    return this.#meter;
  }

  /** What the instruments hold now, or why they cannot be exported: an instrument went over the series limit. */
  async collect(): Promise<{ readonly metrics: MetricData[] } | { readonly overflow: string }> {
    if (this.#reader === undefined) return { metrics: [] };
    const { resourceMetrics } = await this.#reader.collect();
    const metrics = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
    for (const { descriptor, dataPoints } of metrics) {
      if (dataPoints.length > this.#seriesLimit && dataPoints.some((p) => OVERFLOW in p.attributes)) {
        return {
          overflow: `instrument "${descriptor.name}" exceeded the series limit of ${this.#seriesLimit} (raise global.seriesLimit or reduce its labels)`,
        };
      }
    }
    return { metrics };
  }
}
