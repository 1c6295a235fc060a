import { type Meter, ValueType } from '@opentelemetry/api';
import { VERSION } from '../version.ts';

/** custom_exporter_build_info{version,node_version} 1, the usual way to tell which build is running. */
export function registerBuildInfo(meter: Meter): void {
  meter
    .createObservableGauge('custom_exporter_build_info', {
      description: 'A metric with a constant 1 value labeled by the version of custom-exporter and of Node.js',
      valueType: ValueType.INT,
    })
    .addCallback((result) => result.observe(1, { version: VERSION, node_version: process.versions.node }));
}

/** Returns a function that counts one answered scrape by HTTP status code. */
export function scrapeCounter(meter: Meter): (code: number) => void {
  const counter = meter.createCounter('custom_exporter_scrapes', {
    description: 'Scrapes of the metrics endpoint, by HTTP status code',
    valueType: ValueType.INT,
  });
  return (code) => counter.add(1, { code: String(code) });
}

/** Returns a function that counts one push export by exporter and outcome. */
export function exportCounter(meter: Meter): (exporter: string, outcome: 'success' | 'failure') => void {
  const counter = meter.createCounter('custom_exporter_exports', {
    description: 'Pushes of all metrics to an exporter (otlp, console), by outcome',
    valueType: ValueType.INT,
  });
  return (exporter, outcome) => counter.add(1, { exporter, outcome });
}
