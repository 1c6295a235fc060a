import { detectResources, envDetector, type Resource, resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, type MetricReader } from '@opentelemetry/sdk-metrics';
import { NAME, VERSION } from '../version.ts';

/**
 * The SDK MeterProvider of the exporter's own metrics, which the readers collect together with the sources. The
 * sources' series limit does not apply here: each source keeps its synchronous instruments on a provider of its
 * own (src/collector/synchronous-instruments.ts), and the exporter's own metrics have few series.
 */
export function createMeterProvider(readers: MetricReader[], resource: Resource): MeterProvider {
  return new MeterProvider({
    resource,
    readers,
  });
}

/** The exporter's resource (target_info). OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override the defaults, as in every SDK. */
export function exporterResource(): Resource {
  return resourceFromAttributes({ 'service.name': NAME, 'service.version': VERSION }).merge(detectResources({ detectors: [envDetector] }));
}
