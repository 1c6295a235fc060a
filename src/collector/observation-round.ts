import type { Attributes } from '@opentelemetry/api';
import type { ObservableInstrument } from './observable-registry.ts';

export interface Observation {
  readonly attributes: Attributes;
  value: number;
}

/** Raised when an instrument observes more distinct attribute sets in one collection than the limit allows. */
export class SeriesLimitError extends Error {
  override name = 'SeriesLimitError';
}

/**
 * The values observed during one collection of one source. A new round per collection means a series
 * that is no longer observed disappears, and a round that failed is simply not exported.
 */
export class ObservationRound {
  readonly series = new Map<ObservableInstrument, Map<string, Observation>>();
  readonly #limit: number;
  #closed = false;
  #overflow: SeriesLimitError | undefined;

  constructor(seriesLimit: number) {
    this.#limit = seriesLimit;
  }

  record(instrument: ObservableInstrument, value: number, attributes: Attributes = {}): void {
    if (this.#closed || Number.isNaN(value)) return;
    let byKey = this.series.get(instrument);
    if (!byKey) {
      byKey = new Map();
      this.series.set(instrument, byKey);
    }
    const key = attributesKey(attributes);
    const existing = byKey.get(key);
    if (existing) {
      existing.value = value;
    } else if (byKey.size < this.#limit) {
      byKey.set(key, { attributes: { ...attributes }, value });
    } else {
      this.#overflow ??= new SeriesLimitError(
        `instrument "${instrument.name}" exceeded the series limit of ${this.#limit} (raise global.seriesLimit or reduce its labels)`,
      );
    }
  }

  /** Late observations from callbacks that outlived the collection are ignored. */
  close(): void {
    this.#closed = true;
  }

  get overflow(): SeriesLimitError | undefined {
    return this.#overflow;
  }
}

// Attribute sets are unordered: key them by sorted names so {a,b} and {b,a} are one series.
function attributesKey(attributes: Attributes): string {
  const names = Object.keys(attributes);
  if (names.length === 0) return '';
  if (names.length > 1) names.sort();
  let key = '';
  for (const name of names) {
    const value = attributes[name];
    key += `${name}\u0000${typeof value === 'string' ? value : JSON.stringify(value)}\u0001`;
  }
  return key;
}
