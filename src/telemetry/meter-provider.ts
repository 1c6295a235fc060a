import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, type MetricReader } from '@opentelemetry/sdk-metrics';
import { NAME, VERSION } from '../version.ts';

/**
 * The SDK MeterProvider of the exporter's own metrics, which the readers collect together with the sources (each
 * source keeps its synchronous instruments on a provider of its own: src/collector/synchronous-instruments.ts).
 * Every instrument gets the series limit (plus the SDK's overflow series) instead of the SDK's silent 2000.
 */
export function createMeterProvider(readers: MetricReader[], seriesLimit: number): MeterProvider {
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override the defaults, as in every OpenTelemetry SDK.
  const resource = resourceFromAttributes({ 'service.name': NAME, 'service.version': VERSION }).merge(
    detectResources({ detectors: [envDetector] }),
  );
  return new MeterProvider({
    resource,
    readers,
    views: [{ instrumentName: '*', aggregationCardinalityLimit: seriesLimit + 1 }],
  });
}
