import protobuf from 'protobufjs';

/**
 * The OTLP metrics messages a collector decodes, as a protobufjs descriptor: the field numbers and types of
 * opentelemetry-proto's metrics_service.proto, metrics.proto, resource.proto and common.proto, trimmed to
 * what metrics use. Messages share one namespace here; only the service's full name is on the wire.
 */
const descriptor = {
  nested: {
    opentelemetry: {
      nested: {
        proto: {
          nested: {
            collector: {
              nested: {
                metrics: {
                  nested: {
                    v1: {
                      nested: {
                        MetricsService: {
                          methods: { Export: { requestType: 'ExportMetricsServiceRequest', responseType: 'ExportMetricsServiceResponse' } },
                        },
                        ExportMetricsServiceRequest: { fields: { resourceMetrics: { rule: 'repeated', type: 'ResourceMetrics', id: 1 } } },
                        ExportMetricsServiceResponse: { fields: { partialSuccess: { type: 'ExportMetricsPartialSuccess', id: 1 } } },
                        ExportMetricsPartialSuccess: {
                          fields: { rejectedDataPoints: { type: 'int64', id: 1 }, errorMessage: { type: 'string', id: 2 } },
                        },
                        ResourceMetrics: {
                          fields: {
                            resource: { type: 'Resource', id: 1 },
                            scopeMetrics: { rule: 'repeated', type: 'ScopeMetrics', id: 2 },
                            schemaUrl: { type: 'string', id: 3 },
                          },
                        },
                        Resource: {
                          fields: {
                            attributes: { rule: 'repeated', type: 'KeyValue', id: 1 },
                            droppedAttributesCount: { type: 'uint32', id: 2 },
                          },
                        },
                        ScopeMetrics: {
                          fields: {
                            scope: { type: 'InstrumentationScope', id: 1 },
                            metrics: { rule: 'repeated', type: 'Metric', id: 2 },
                            schemaUrl: { type: 'string', id: 3 },
                          },
                        },
                        InstrumentationScope: {
                          fields: {
                            name: { type: 'string', id: 1 },
                            version: { type: 'string', id: 2 },
                            attributes: { rule: 'repeated', type: 'KeyValue', id: 3 },
                          },
                        },
                        Metric: {
                          oneofs: { data: { oneof: ['gauge', 'sum', 'histogram'] } },
                          fields: {
                            name: { type: 'string', id: 1 },
                            description: { type: 'string', id: 2 },
                            unit: { type: 'string', id: 3 },
                            gauge: { type: 'Gauge', id: 5 },
                            sum: { type: 'Sum', id: 7 },
                            histogram: { type: 'Histogram', id: 9 },
                          },
                        },
                        Gauge: { fields: { dataPoints: { rule: 'repeated', type: 'NumberDataPoint', id: 1 } } },
                        Sum: {
                          fields: {
                            dataPoints: { rule: 'repeated', type: 'NumberDataPoint', id: 1 },
                            aggregationTemporality: { type: 'AggregationTemporality', id: 2 },
                            isMonotonic: { type: 'bool', id: 3 },
                          },
                        },
                        Histogram: {
                          fields: {
                            dataPoints: { rule: 'repeated', type: 'HistogramDataPoint', id: 1 },
                            aggregationTemporality: { type: 'AggregationTemporality', id: 2 },
                          },
                        },
                        AggregationTemporality: {
                          values: {
                            AGGREGATION_TEMPORALITY_UNSPECIFIED: 0,
                            AGGREGATION_TEMPORALITY_DELTA: 1,
                            AGGREGATION_TEMPORALITY_CUMULATIVE: 2,
                          },
                        },
                        NumberDataPoint: {
                          oneofs: { value: { oneof: ['asDouble', 'asInt'] } },
                          fields: {
                            attributes: { rule: 'repeated', type: 'KeyValue', id: 7 },
                            startTimeUnixNano: { type: 'fixed64', id: 2 },
                            timeUnixNano: { type: 'fixed64', id: 3 },
                            asDouble: { type: 'double', id: 4 },
                            asInt: { type: 'sfixed64', id: 6 },
                            flags: { type: 'uint32', id: 8 },
                          },
                        },
                        HistogramDataPoint: {
                          fields: {
                            attributes: { rule: 'repeated', type: 'KeyValue', id: 9 },
                            startTimeUnixNano: { type: 'fixed64', id: 2 },
                            timeUnixNano: { type: 'fixed64', id: 3 },
                            count: { type: 'fixed64', id: 4 },
                            sum: { type: 'double', id: 5 },
                            bucketCounts: { rule: 'repeated', type: 'fixed64', id: 6 },
                            explicitBounds: { rule: 'repeated', type: 'double', id: 7 },
                          },
                        },
                        KeyValue: { fields: { key: { type: 'string', id: 1 }, value: { type: 'AnyValue', id: 2 } } },
                        AnyValue: {
                          oneofs: { value: { oneof: ['stringValue', 'boolValue', 'intValue', 'doubleValue'] } },
                          fields: {
                            stringValue: { type: 'string', id: 1 },
                            boolValue: { type: 'bool', id: 2 },
                            intValue: { type: 'int64', id: 3 },
                            doubleValue: { type: 'double', id: 4 },
                          },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(descriptor);
const ns = 'opentelemetry.proto.collector.metrics.v1';

export const ExportRequest = root.lookupType(`${ns}.ExportMetricsServiceRequest`);
export const ExportResponse = root.lookupType(`${ns}.ExportMetricsServiceResponse`);
export const EXPORT_GRPC_PATH = `/${ns}.MetricsService/Export`;
