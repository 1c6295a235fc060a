import type { BatchObservableCallback, Meter, MetricOptions, Observable } from '@opentelemetry/api';
import { sanitizeName } from '../telemetry/prometheus-names.ts';
import type { ObservableRegistry } from './observable-registry.ts';
import type { SynchronousInstruments } from './synchronous-instruments.ts';

// The exporter's own reports about every source and about itself, as Prometheus names: a source reporting one of
// them would merge its own series into them (a source_up that lies) or, with another type, drop the family.
const RESERVED = /^(custom_exporter_(source_|build_info|config_last_reload_|scrapes|exports)|target_info$)/;

function checked(name: string): string {
  if (RESERVED.test(sanitizeName(name))) throw new Error(`instrument name "${name}" is reserved for the exporter's own metrics`);
  return name;
}

/**
 * The Meter a source receives. Synchronous instruments go to an OpenTelemetry SDK meter of the source's own;
 * observable ones are collected per source, so each source's callbacks run under its own timeout and a failing
 * source loses only its own series. Both are exported only while the source runs.
 */
export function sourceMeter(synchronous: SynchronousInstruments, registry: ObservableRegistry): Meter {
  return {
    createGauge: (name: string, options?: MetricOptions) => synchronous.meter.createGauge(checked(name), options),
    createHistogram: (name: string, options?: MetricOptions) => synchronous.meter.createHistogram(checked(name), options),
    createCounter: (name: string, options?: MetricOptions) => synchronous.meter.createCounter(checked(name), options),
    createUpDownCounter: (name: string, options?: MetricOptions) => synchronous.meter.createUpDownCounter(checked(name), options),
    createObservableGauge: (name: string, options?: MetricOptions) => registry.create(checked(name), 'gauge', options),
    createObservableCounter: (name: string, options?: MetricOptions) => registry.create(checked(name), 'counter', options),
    createObservableUpDownCounter: (name: string, options?: MetricOptions) => registry.create(checked(name), 'updowncounter', options),
    addBatchObservableCallback: (callback: BatchObservableCallback, observables: Observable[]) =>
      registry.addBatchCallback(callback, observables),
    removeBatchObservableCallback: (callback: BatchObservableCallback, observables: Observable[]) =>
      registry.removeBatchCallback(callback, observables),
  };
}
