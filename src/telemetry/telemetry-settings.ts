import { z } from 'zod';
import { METRIC_EXPORTERS, OTLP_PROTOCOLS, type TelemetryConfig } from '../config/schema.ts';
import { formatDuration, MAX_INTERVAL_MS, MAX_TIMEOUT_MS } from '../duration.ts';

type MetricExporterName = Exclude<(typeof METRIC_EXPORTERS)[number], 'none'>;
type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

/** Where metrics go and how often they are pushed: the OTEL_* environment over the config file over defaults. */
export interface TelemetrySettings {
  readonly exporters: ReadonlySet<MetricExporterName>;
  readonly protocol: OtlpProtocol;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Options for the OTLP exporter that the config file sets and the environment does not. */
  readonly otlp: {
    readonly url?: string;
    readonly headers?: Readonly<Record<string, string>>;
    readonly compression?: 'gzip' | 'none';
    readonly timeoutMs?: number;
  };
}

/** An OTEL_* variable (or the config file's telemetry section) that cannot be used. */
export class TelemetrySettingsError extends Error {
  override name = 'TelemetrySettingsError';
}

const DEFAULT_INTERVAL_MS = 60_000;
const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Honours the variables the OpenTelemetry JS packages leave to the application (OTEL_METRICS_EXPORTER,
 * OTEL_EXPORTER_OTLP_[METRICS_]PROTOCOL, OTEL_METRIC_EXPORT_INTERVAL/_TIMEOUT, OTEL_SDK_DISABLED). The
 * exporters read endpoint, headers, compression, timeout and certificates themselves: the config file's
 * values for those are passed on only where the environment sets nothing. `warn` hears about settings
 * that were adjusted rather than refused.
 */
export function resolveTelemetrySettings(
  env: NodeJS.ProcessEnv,
  config: TelemetryConfig | undefined,
  warn: (message: string) => void = () => {},
): TelemetrySettings {
  const read = (name: string) => (env[name]?.trim() ? env[name]!.trim() : undefined);
  const first = (...names: string[]) => names.map(read).find((v) => v !== undefined);

  const disabled = read('OTEL_SDK_DISABLED');
  if (disabled !== undefined && !['true', 'false'].includes(disabled.toLowerCase())) {
    throw new TelemetrySettingsError(`OTEL_SDK_DISABLED: "${disabled}" is not true or false`);
  }
  const exporters =
    disabled?.toLowerCase() === 'true' ? new Set<MetricExporterName>() : exporterSet(read('OTEL_METRICS_EXPORTER'), config?.exporters);

  const protocolText = first('OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL');
  const protocol =
    protocolText === undefined
      ? (config?.otlp?.protocol ?? 'http/protobuf')
      : oneOf(protocolText, OTLP_PROTOCOLS, 'OTEL_EXPORTER_OTLP_[METRICS_]PROTOCOL');

  // Which setting each value came from, for the warning below.
  const origin = (variable: string, field: string, fromConfig: unknown) =>
    read(variable) !== undefined ? variable : fromConfig !== undefined ? field : undefined;
  const intervalMs =
    millis(read('OTEL_METRIC_EXPORT_INTERVAL'), 'OTEL_METRIC_EXPORT_INTERVAL', MAX_INTERVAL_MS) ??
    config?.otlp?.interval ??
    DEFAULT_INTERVAL_MS;
  const givenTimeoutMs =
    millis(read('OTEL_METRIC_EXPORT_TIMEOUT'), 'OTEL_METRIC_EXPORT_TIMEOUT', MAX_TIMEOUT_MS) ?? config?.otlp?.exportTimeout;
  // The periodic reader refuses a timeout longer than the interval. Unset, the 30 s default follows a shorter
  // interval (OTEL_METRIC_EXPORT_INTERVAL=5000 alone is common); set too long, the interval wins, with a warning.
  let timeoutMs = givenTimeoutMs ?? Math.min(DEFAULT_TIMEOUT_MS, intervalMs);
  if (timeoutMs > intervalMs) {
    const timeoutFrom = origin('OTEL_METRIC_EXPORT_TIMEOUT', 'telemetry.otlp.exportTimeout', config?.otlp?.exportTimeout);
    const intervalFrom = origin('OTEL_METRIC_EXPORT_INTERVAL', 'telemetry.otlp.interval', config?.otlp?.interval) ?? 'the default interval';
    warn(`${timeoutFrom} (${timeoutMs} ms) is longer than ${intervalFrom} (${intervalMs} ms): pushes time out after ${intervalMs} ms`);
    timeoutMs = intervalMs;
  }

  const unset = (...names: string[]) => first(...names) === undefined;
  const fromConfig = config?.otlp;
  return {
    exporters,
    protocol,
    intervalMs,
    timeoutMs,
    otlp: {
      url:
        unset('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT') && fromConfig?.endpoint
          ? metricsUrl(fromConfig.endpoint, protocol)
          : undefined,
      headers: unset('OTEL_EXPORTER_OTLP_METRICS_HEADERS', 'OTEL_EXPORTER_OTLP_HEADERS') ? fromConfig?.headers : undefined,
      compression: unset('OTEL_EXPORTER_OTLP_METRICS_COMPRESSION', 'OTEL_EXPORTER_OTLP_COMPRESSION') ? fromConfig?.compression : undefined,
      // Unless set, a request and its retries get the export timeout rather than the SDK's 10 s, which would
      // outlive the reader's own timeout.
      timeoutMs: unset('OTEL_EXPORTER_OTLP_METRICS_TIMEOUT', 'OTEL_EXPORTER_OTLP_TIMEOUT')
        ? (fromConfig?.requestTimeout ?? timeoutMs)
        : undefined,
    },
  };
}

function exporterSet(text: string | undefined, fromConfig: readonly string[] | undefined): Set<MetricExporterName> {
  const names = text === undefined ? (fromConfig ?? ['prometheus']) : text.split(',').map((n) => n.trim().toLowerCase());
  const where = text === undefined ? 'telemetry.exporters' : 'OTEL_METRICS_EXPORTER';
  for (const name of names) oneOf(name, METRIC_EXPORTERS, where);
  if (names.includes('none') && names.length > 1)
    throw new TelemetrySettingsError(`${where}: "none" cannot be combined with other exporters`);
  return new Set(names.filter((n): n is MetricExporterName => n !== 'none'));
}

function oneOf<T extends string>(value: string, allowed: readonly T[], where: string): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new TelemetrySettingsError(`${where}: "${value}" is not one of ${allowed.join(', ')}`);
  }
  return value as T;
}

function millis(text: string | undefined, name: string, maxMs: number): number | undefined {
  if (text === undefined) return undefined;
  const parsed = z.coerce.number().int().positive().safeParse(text);
  if (!parsed.success) throw new TelemetrySettingsError(`${name}: "${text}" is not a positive whole number of milliseconds`);
  if (parsed.data > maxMs) {
    throw new TelemetrySettingsError(`${name}: "${text}" is more than the maximum of ${maxMs} ms (${formatDuration(maxMs)})`);
  }
  return parsed.data;
}

/** Like OTEL_EXPORTER_OTLP_ENDPOINT: a bare base URL gets the metrics path for HTTP; a URL with a path is kept. */
function metricsUrl(endpoint: string, protocol: OtlpProtocol): string {
  const url = new URL(endpoint);
  if (protocol !== 'grpc' && (url.pathname === '/' || url.pathname === '')) url.pathname = '/v1/metrics';
  return url.toString();
}
