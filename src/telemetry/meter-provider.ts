import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, type MetricReader } from '@opentelemetry/sdk-metrics';
import { NAME, VERSION } from '../version.ts';

/**
 * The SDK MeterProvider for synchronous instruments and the exporter's own metrics. Every instrument gets
 * the configured series limit (plus the SDK's overflow series) instead of the SDK's silent default of 2000.
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
