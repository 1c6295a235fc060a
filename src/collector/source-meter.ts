import type { BatchObservableCallback, Meter, MetricOptions, Observable } from '@opentelemetry/api';
import type { ObservableRegistry } from './observable-registry.ts';
import type { SynchronousInstruments } from './synchronous-instruments.ts';

/**
 * The Meter a source receives. Synchronous instruments go to an OpenTelemetry SDK meter of the source's own;
 * observable ones are collected per source, so each source's callbacks run under its own timeout and a failing
 * source loses only its own series. Both are exported only while the source runs.
 */
export function sourceMeter(synchronous: SynchronousInstruments, registry: ObservableRegistry): Meter {
  return {
    createGauge: (name: string, options?: MetricOptions) => synchronous.meter.createGauge(name, options),
    createHistogram: (name: string, options?: MetricOptions) => synchronous.meter.createHistogram(name, options),
    createCounter: (name: string, options?: MetricOptions) => synchronous.meter.createCounter(name, options),
    createUpDownCounter: (name: string, options?: MetricOptions) => synchronous.meter.createUpDownCounter(name, options),
    createObservableGauge: (name: string, options?: MetricOptions) => registry.create(name, 'gauge', options),
    createObservableCounter: (name: string, options?: MetricOptions) => registry.create(name, 'counter', options),
    createObservableUpDownCounter: (name: string, options?: MetricOptions) => registry.create(name, 'updowncounter', options),
    addBatchObservableCallback: (callback: BatchObservableCallback, observables: Observable[]) =>
      registry.addBatchCallback(callback, observables),
    removeBatchObservableCallback: (callback: BatchObservableCallback, observables: Observable[]) =>
      registry.removeBatchCallback(callback, observables),
  };
}
