import type { BatchObservableCallback, Meter, MetricOptions, Observable } from '@opentelemetry/api';
import type { ObservableRegistry } from './observable-registry.ts';

/**
 * The Meter a source receives. Synchronous instruments go straight to the OpenTelemetry SDK; observable ones
 * are collected per source, so each source's callbacks run under its own timeout and a failing source loses
 * only its own series.
 */
export function sourceMeter(sdkMeter: Meter, registry: ObservableRegistry): Meter {
  return {
    createGauge: (name: string, options?: MetricOptions) => sdkMeter.createGauge(name, options),
    createHistogram: (name: string, options?: MetricOptions) => sdkMeter.createHistogram(name, options),
    createCounter: (name: string, options?: MetricOptions) => sdkMeter.createCounter(name, options),
    createUpDownCounter: (name: string, options?: MetricOptions) => sdkMeter.createUpDownCounter(name, options),
    createObservableGauge: (name: string, options?: MetricOptions) => registry.create(name, 'gauge', options),
    createObservableCounter: (name: string, options?: MetricOptions) => registry.create(name, 'counter', options),
    createObservableUpDownCounter: (name: string, options?: MetricOptions) => registry.create(name, 'updowncounter', options),
    addBatchObservableCallback: (callback: BatchObservableCallback, observables: Observable[]) =>
      registry.addBatchCallback(callback, observables),
    removeBatchObservableCallback: (callback: BatchObservableCallback, observables: Observable[]) =>
      registry.removeBatchCallback(callback, observables),
  };
}
