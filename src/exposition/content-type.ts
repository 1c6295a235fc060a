import type { ExpositionFormat, ScrapeProtocol } from './format.ts';

/**
 * The media type and parameters of each protocol, as Prometheus names them in its Accept header (config.go,
 * ScrapeProtocolsHeaders) and client_golang's expfmt writes them in the Content-Type of its answers.
 */
export const MEDIA_TYPES: { readonly [P in ScrapeProtocol]: { readonly type: string; readonly params: Readonly<Record<string, string>> } } =
  {
    'PrometheusText0.0.4': { type: 'text/plain', params: { version: '0.0.4' } },
    'PrometheusText1.0.0': { type: 'text/plain', params: { version: '1.0.0' } },
    'OpenMetricsText0.0.1': { type: 'application/openmetrics-text', params: { version: '0.0.1' } },
    'OpenMetricsText1.0.0': { type: 'application/openmetrics-text', params: { version: '1.0.0' } },
    PrometheusProto: {
      type: 'application/vnd.google.protobuf',
      params: { proto: 'io.prometheus.client.MetricFamily', encoding: 'delimited' },
    },
  };

/**
 * Whether the protocol can carry names outside the classic charset, so that the `escaping=` the scraper asked
 * for applies and the Content-Type says which one was used. Prometheus sends `escaping=` only with the 1.0.0 text
 * formats (scrape.go, acceptHeader); protobuf names are plain strings, and client_golang names the escaping of
 * protobuf answers too. Text 0.0.4 and OpenMetrics 0.0.1 predate UTF-8 names: always `underscores`, unnamed.
 */
export function carriesEscaping(protocol: ScrapeProtocol): boolean {
  return protocol === 'PrometheusText1.0.0' || protocol === 'OpenMetricsText1.0.0' || protocol === 'PrometheusProto';
}

/** The Content-Type of an answer in this format: exactly what was sent (version, charset of text, escaping). */
export function contentType(format: ExpositionFormat): string {
  const { type, params } = MEDIA_TYPES[format.protocol];
  let value = type;
  for (const [name, v] of Object.entries(params)) value += `; ${name}=${v}`;
  if (format.protocol !== 'PrometheusProto') value += '; charset=utf-8';
  if (carriesEscaping(format.protocol)) value += `; escaping=${format.escaping}`;
  return value;
}
