import type { MeterProvider } from '@opentelemetry/api';
import type { MetricProducer } from '@opentelemetry/sdk-metrics';
import type { PrometheusTextOptions } from '../exposition/prometheus-text.ts';
import type { Logger } from '../logging.ts';
import { NAME, VERSION } from '../version.ts';
import { createMeterProvider, exporterResource } from './meter-provider.ts';
import { registerProcessMetrics } from './process-metrics.ts';
import { PrometheusPull, type SelectableSources } from './prometheus-pull.ts';
import { createPushReaders } from './push-readers.ts';
import { ExportCounts, registerSelfMetrics, type SelfInstruments } from './self-metrics.ts';
import type { TelemetrySettings } from './telemetry-settings.ts';

export interface TelemetryOptions {
  readonly settings: TelemetrySettings;
  /** What every reader collects (the sources), besides the MeterProvider's own instruments. */
  readonly producers: MetricProducer[];
  /** The sources' producer again, for `/metrics?source=` scrapes that collect only some of them. */
  readonly selectable?: SelectableSources;
  /** How /metrics writes the text exposition. */
  readonly text: PrometheusTextOptions;
  /** process_* and nodejs_* metrics (--web.disable-exporter-metrics turns them off). */
  readonly processMetrics: boolean;
  readonly logger: Logger;
}

/** The OpenTelemetry side: where instruments live, who reads them, and the exporter's own metrics. */
export interface Telemetry {
  readonly meterProvider: MeterProvider;
  /** The Prometheus pull side; undefined when Prometheus is not among the exporters. */
  readonly pull: PrometheusPull | undefined;
  /** The exporter's own instruments that the other parts feed. */
  readonly self: SelfInstruments;
  /** Stops process metrics, and lets push readers export once more (bounded by the export timeout). */
  shutdown(): Promise<void>;
  /** Stops everything without waiting for that last export: the exporter failed to start. */
  abandon(): Promise<void>;
}

export async function startTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  const { settings, producers, logger } = options;
  // Every reader collects the same producers: pulled and pushed values agree.
  const resource = exporterResource();
  const selection = options.selectable && { sources: options.selectable, resource };
  const pull = settings.exporters.has('prometheus') ? new PrometheusPull(producers, logger, options.text, selection) : undefined;
  // Push readers report each export before the MeterProvider (built from them) exists; the counts wait here.
  const exports = new ExportCounts();
  const pushReaders = await createPushReaders(settings, producers, exports.count, logger);
  const meterProvider = createMeterProvider([...(pull ? [pull.reader] : []), ...pushReaders], resource);
  const meter = meterProvider.getMeter(NAME, VERSION);
  const self = registerSelfMetrics(meter, pushReaders.length > 0 ? exports : undefined);
  const stopProcessMetrics = options.processMetrics ? registerProcessMetrics(meter) : () => {};
  return {
    meterProvider,
    pull,
    self,
    async shutdown() {
      stopProcessMetrics();
      await meterProvider.shutdown({ timeoutMillis: settings.timeoutMs });
    },
    async abandon() {
      stopProcessMetrics();
      // Shutting a push reader down pushes once more, and its retries would keep a failed process alive for the
      // export timeout. Its schedule is an unref'd timer: left alone, it holds nothing open.
      if (pushReaders.length === 0) await meterProvider.shutdown();
    },
  };
}
