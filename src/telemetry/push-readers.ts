import { Metadata } from '@grpc/grpc-js';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPMetricExporter as GrpcExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as JsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtobufExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import {
  ConsoleMetricExporter,
  PeriodicExportingMetricReader,
  type InstrumentType,
  type MetricProducer,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { Logger } from '../logging.ts';
import type { TelemetrySettings } from './telemetry-settings.ts';

export type ExportOutcome = 'success' | 'failure';

/** One periodic reader per push exporter named in the settings (otlp, console); none when only pulling. */
export function createPushReaders(
  settings: TelemetrySettings,
  producers: MetricProducer[],
  onExport: (exporter: string, outcome: ExportOutcome) => void,
  logger: Logger,
): PeriodicExportingMetricReader[] {
  const readers: PeriodicExportingMetricReader[] = [];
  for (const name of settings.exporters) {
    if (name === 'prometheus') continue;
    const exporter = name === 'otlp' ? otlpExporter(settings) : new ConsoleMetricExporter();
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: new CountingExporter(exporter, name, settings.timeoutMs, onExport, logger),
        exportIntervalMillis: settings.intervalMs,
        exportTimeoutMillis: settings.timeoutMs,
        metricProducers: producers,
      }),
    );
  }
  return readers;
}

function otlpExporter(settings: TelemetrySettings): PushMetricExporter {
  const { url, headers, timeoutMs } = settings.otlp;
  const compression = settings.otlp.compression && (settings.otlp.compression === 'gzip' ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE);
  const common = { url, timeoutMillis: timeoutMs, compression };
  switch (settings.protocol) {
    case 'grpc': {
      const metadata = new Metadata();
      for (const [key, value] of Object.entries(headers ?? {})) metadata.set(key, value);
      return new GrpcExporter({ ...common, metadata });
    }
    case 'http/json':
      return new JsonExporter({ ...common, headers });
    case 'http/protobuf':
      return new ProtobufExporter({ ...common, headers });
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
  readonly selectAggregationTemporality?: (type: InstrumentType) => ReturnType<NonNullable<PushMetricExporter['selectAggregationTemporality']>>;
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
