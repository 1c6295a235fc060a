import type {
  Attributes,
  BatchObservableCallback,
  MetricOptions,
  Observable,
  ObservableCallback,
  ObservableResult,
} from '@opentelemetry/api';
import { ValueType } from '@opentelemetry/api';
import { type ObservationRound, SeriesIndex } from './observation-round.ts';

export type ObservableKind = 'gauge' | 'counter' | 'updowncounter';

// OpenTelemetry's instrument-name syntax.
const INSTRUMENT_NAME = /^[A-Za-z][A-Za-z0-9_.\-/]{0,254}$/;

/** An observable instrument handed to a source; its values live only in the round being collected. */
export class ObservableInstrument implements Observable {
  readonly name: string;
  readonly kind: ObservableKind;
  readonly description: string;
  readonly unit: string;
  readonly valueType: ValueType;
  /** The attribute sets its latest round observed, kept so the next round can reuse them (see ObservationRound). */
  readonly seriesIndex = new SeriesIndex();
  readonly #registry: ObservableRegistry;

  constructor(registry: ObservableRegistry, name: string, kind: ObservableKind, options: MetricOptions) {
    this.#registry = registry;
    this.name = name;
    this.kind = kind;
    this.description = options.description ?? '';
    this.unit = options.unit ?? '';
    this.valueType = options.valueType ?? ValueType.DOUBLE;
  }

  addCallback(callback: ObservableCallback): void {
    this.#registry.addCallback(this, callback);
  }

  removeCallback(callback: ObservableCallback): void {
    this.#registry.removeCallback(this, callback);
  }
}

type Registered =
  | { readonly instrument: ObservableInstrument; readonly single: ObservableCallback }
  | { readonly observables: ReadonlySet<Observable>; readonly batch: BatchObservableCallback };

/** One source's observable instruments and callbacks. `observe` runs every callback into a fresh round. */
export class ObservableRegistry {
  readonly instruments = new Map<string, ObservableInstrument>();
  #callbacks: Registered[] = [];

  create(name: string, kind: ObservableKind, options: MetricOptions = {}): ObservableInstrument {
    if (!INSTRUMENT_NAME.test(name)) {
      throw new Error(`invalid instrument name "${name}" (letters, digits, _ . - / ; starting with a letter)`);
    }
    const existing = this.instruments.get(name);
    if (existing) {
      if (existing.kind !== kind) throw new Error(`instrument "${name}" already exists as a ${existing.kind}`);
      return existing;
    }
    const instrument = new ObservableInstrument(this, name, kind, options);
    this.instruments.set(name, instrument);
    return instrument;
  }

  addCallback(instrument: ObservableInstrument, single: ObservableCallback): void {
    if (this.#callbacks.some((c) => 'single' in c && c.single === single && c.instrument === instrument)) return;
    this.#callbacks.push({ instrument, single });
  }

  removeCallback(instrument: ObservableInstrument, single: ObservableCallback): void {
    this.#callbacks = this.#callbacks.filter((c) => !('single' in c && c.single === single && c.instrument === instrument));
  }

  addBatchCallback(batch: BatchObservableCallback, observables: Observable[]): void {
    for (const o of observables) {
      if (!(o instanceof ObservableInstrument) || this.instruments.get(o.name) !== o) {
        throw new Error('a batch callback can only observe instruments created by the same source meter');
      }
    }
    this.#callbacks.push({ observables: new Set(observables), batch });
  }

  removeBatchCallback(batch: BatchObservableCallback, observables: Observable[]): void {
    const wanted = new Set(observables);
    this.#callbacks = this.#callbacks.filter(
      (c) => !('batch' in c && c.batch === batch && c.observables.size === wanted.size && [...wanted].every((o) => c.observables.has(o))),
    );
  }

  /** Runs every callback into `round`; rejects with the first callback error. */
  async observe(round: ObservationRound): Promise<void> {
    await Promise.all(
      this.#callbacks.map(async (c) => {
        if ('single' in c) {
          const result: ObservableResult = { observe: (value, attributes) => round.record(c.instrument, value, attributes) };
          await c.single(result);
        } else {
          await c.batch({
            observe: (observable, value, attributes?: Attributes) => {
              if (c.observables.has(observable)) round.record(observable as ObservableInstrument, value, attributes);
            },
          });
        }
      }),
    );
  }
}
