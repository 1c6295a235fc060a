import type { BatchObservableCallback, Meter, MetricOptions, Observable } from '@opentelemetry/api';
import { sanitizeName } from '../exposition/prometheus-names.ts';
import type { ObservableRegistry } from './observable-registry.ts';
import type { SynchronousInstruments } from './synchronous-instruments.ts';

// The exporter's own reports about every source and about itself, as Prometheus names: a source reporting one of
// them would merge its own series into them (a source_up that lies) or, with another type, drop the family.
const RESERVED = /^(custom_exporter_(source_|build_info|config_last_reload_|scrapes|exports)|target_info$)/;

/**
 * The instrument's name, once it is one a source may use. Name, description and unit end up in every exposition:
 * one that is not a string (a Symbol, an object whose toString throws) would fail every scrape, so it fails the
 * source's setup instead.
 */
function checked(name: string, options?: MetricOptions): string {
  if (typeof name !== 'string') throw new Error(`instrument name is not a string (${typeof name})`);
  for (const field of ['description', 'unit'] as const) {
    const value: unknown = options?.[field];
    if (value !== undefined && typeof value !== 'string') throw new Error(`instrument "${name}": ${field} is not a string`);
  }
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
    createGauge: (name: string, options?: MetricOptions) => synchronous.meter.createGauge(checked(name, options), options),
    createHistogram: (name: string, options?: MetricOptions) => synchronous.meter.createHistogram(checked(name, options), options),
    createCounter: (name: string, options?: MetricOptions) => synchronous.meter.createCounter(checked(name, options), options),
    createUpDownCounter: (name: string, options?: MetricOptions) => synchronous.meter.createUpDownCounter(checked(name, options), options),
    createObservableGauge: (name: string, options?: MetricOptions) => registry.create(checked(name, options), 'gauge', options),
    createObservableCounter: (name: string, options?: MetricOptions) => registry.create(checked(name, options), 'counter', options),
    createObservableUpDownCounter: (name: string, options?: MetricOptions) =>
      registry.create(checked(name, options), 'updowncounter', options),
    addBatchObservableCallback: (callback: BatchObservableCallback, observables: Observable[]) =>
      registry.addBatchCallback(callback, observables),
    removeBatchObservableCallback: (callback: BatchObservableCallback, observables: Observable[]) =>
      registry.removeBatchCallback(callback, observables),
  };
}
