import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import {
  ConsoleMetricExporter,
  type InstrumentType,
  type MetricProducer,
  PeriodicExportingMetricReader,
  type PeriodicExportingMetricReaderOptions,
  type PushMetricExporter,
  type ResourceMetrics,
  TimeoutError,
} from '@opentelemetry/sdk-metrics';
import type { Logger } from '../logging.ts';
import type { ExportOutcome } from './self-metrics.ts';
import type { TelemetrySettings } from './telemetry-settings.ts';

/** One periodic reader per push exporter named in the settings (otlp, console); none when only pulling. */
export async function createPushReaders(
  settings: TelemetrySettings,
  producers: MetricProducer[],
  onExport: (exporter: string, outcome: ExportOutcome) => void,
  logger: Logger,
): Promise<PeriodicExportingMetricReader[]> {
  const readers: PeriodicExportingMetricReader[] = [];
  for (const name of settings.exporters) {
    if (name === 'prometheus') continue;
    const exporter = name === 'otlp' ? await otlpExporter(settings) : new ConsoleMetricExporter();
    readers.push(
      new PushReader(
        {
          exporter: new CountingExporter(exporter, name, settings.timeoutMs, onExport, logger),
          exportIntervalMillis: settings.intervalMs,
          exportTimeoutMillis: settings.timeoutMs,
          metricProducers: producers,
        },
        name,
        logger,
      ),
    );
  }
  return readers;
}

// The OTLP exporters (and gRPC, protobuf) are loaded only when OTLP is configured: a pull-only exporter would
// otherwise carry ~8 MiB of memory for them (bench/RESULTS.md).
async function otlpExporter(settings: TelemetrySettings): Promise<PushMetricExporter> {
  const { url, headers, timeoutMs } = settings.otlp;
  const { CompressionAlgorithm } = await import('@opentelemetry/otlp-exporter-base');
  const compression =
    settings.otlp.compression && (settings.otlp.compression === 'gzip' ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE);
  const common = { url, timeoutMillis: timeoutMs, compression };
  switch (settings.protocol) {
    case 'grpc': {
      const [{ Metadata }, { OTLPMetricExporter }] = await Promise.all([
        import('@grpc/grpc-js'),
        import('@opentelemetry/exporter-metrics-otlp-grpc'),
      ]);
      const metadata = new Metadata();
      for (const [key, value] of Object.entries(headers ?? {})) metadata.set(key, value);
      return new OTLPMetricExporter({ ...common, metadata });
    }
    case 'http/json': {
      const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-http');
      return new OTLPMetricExporter({ ...common, headers });
    }
    case 'http/protobuf': {
      const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-proto');
      return new OTLPMetricExporter({ ...common, headers });
    }
  }
}

/**
 * The final push at shutdown is bounded by the export timeout; a collector that does not answer in time makes it
 * fail, not the shutdown: SIGTERM still exits 0, as the README promises (issue 11). The failed push is logged.
 */
class PushReader extends PeriodicExportingMetricReader {
  readonly #name: string;
  readonly #logger: Logger;

  constructor(options: PeriodicExportingMetricReaderOptions, name: string, logger: Logger) {
    super(options);
    this.#name = name;
    this.#logger = logger;
  }

  override async shutdown(options?: { timeoutMillis?: number }): Promise<void> {
    try {
      await super.shutdown(options);
    } catch (err) {
      if (!(err instanceof TimeoutError)) throw err;
      this.#logger.warn({ exporter: this.#name, err: err.message }, 'the final metrics push did not finish in time; stopping without it');
    }
  }
}

/**
 * Counts and logs each export's outcome, including exports still retrying when the export timeout is up
 * (the reader gives up on those silently); otherwise the exporter's own behaviour is kept.
 */
class CountingExporter implements PushMetricExporter {
  readonly #inner: PushMetricExporter;
  readonly #name: string;
  readonly #timeoutMs: number;
  readonly #onExport: (exporter: string, outcome: ExportOutcome) => void;
  readonly #logger: Logger;
  readonly selectAggregationTemporality?: (
    type: InstrumentType,
  ) => ReturnType<NonNullable<PushMetricExporter['selectAggregationTemporality']>>;
  readonly selectAggregation?: (type: InstrumentType) => ReturnType<NonNullable<PushMetricExporter['selectAggregation']>>;

  constructor(
    inner: PushMetricExporter,
    name: string,
    timeoutMs: number,
    onExport: (exporter: string, outcome: ExportOutcome) => void,
    logger: Logger,
  ) {
    this.#inner = inner;
    this.#name = name;
    this.#timeoutMs = timeoutMs;
    this.#onExport = onExport;
    this.#logger = logger;
    if (inner.selectAggregationTemporality) this.selectAggregationTemporality = (type) => inner.selectAggregationTemporality!(type);
    if (inner.selectAggregation) this.selectAggregation = (type) => inner.selectAggregation!(type);
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    let settled = false;
    const settle = (result: ExportResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const ok = result.code === ExportResultCode.SUCCESS;
      this.#onExport(this.#name, ok ? 'success' : 'failure');
      if (!ok) this.#logger.warn({ exporter: this.#name, err: result.error?.message ?? 'unknown error' }, 'metrics export failed');
      resultCallback(result);
    };
    const timer = setTimeout(
      () => settle({ code: ExportResultCode.FAILED, error: new Error(`no answer within the export timeout of ${this.#timeoutMs} ms`) }),
      this.#timeoutMs,
    );
    this.#inner.export(metrics, settle);
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }
}
