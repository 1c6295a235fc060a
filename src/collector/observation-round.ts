import type { Attributes, AttributeValue } from '@opentelemetry/api';
import type { MetricData } from '@opentelemetry/sdk-metrics';
import type { ObservableInstrument } from './observable-registry.ts';

export interface Observation {
  readonly attributes: Attributes;
  value: number;
}

/**
 * One instrument's observations in one round, in the order their attribute sets were first observed: series i
 * has `attributes[i]` (frozen, the same object in every round that observes it) and `observed[i]`.
 */
export interface InstrumentObservations {
  readonly size: number;
  readonly attributes: readonly Attributes[];
  readonly observed: readonly number[];
  values(): Iterable<Observation>;
}

/** Raised when an instrument observes more distinct attribute sets in one collection than the limit allows. */
export class SeriesLimitError extends Error {
  override name = 'SeriesLimitError';
}

// An attribute set an instrument has observed: a frozen copy, kept from one round to the next so that the same
// series does not allocate again and the Prometheus writer can keep its label text (see prometheus-text.ts).
interface Known {
  readonly attributes: Attributes;
  /** How many names `attributes` has; none of its values is undefined when `comparable`. */
  readonly size: number;
  readonly comparable: boolean;
  /** The round that last observed it, and where in that round's observations. */
  round: number;
  slot: number;
}

/**
 * One instrument's attribute sets observed by its latest round, by key and in the order that round observed them.
 * Each instrument has its own (see ObservableInstrument), and one round at a time fills it.
 */
export class SeriesIndex {
  readonly known = new Map<string, Known>();
  order: Known[] = [];
  /** Whether a round that has not closed yet is filling it. */
  busy = false;
  /** How many rounds have filled it: the number stamped on the series each one observes. */
  rounds = 0;
}

class InstrumentRound implements InstrumentObservations {
  readonly attributes: Attributes[] = [];
  readonly observed: number[] = [];
  readonly known: Known[] = [];
  /** Where in the previous round's order the next observation is expected (callbacks tend to repeat themselves). */
  cursor = 0;
  readonly index: SeriesIndex;
  /** This round's number in the index when it fills the index, else 0. */
  readonly id: number;
  /** Set when another round fills the index: this round then dedupes with its own map and only reads the index. */
  readonly own: Map<string, number> | undefined;

  constructor(index: SeriesIndex) {
    this.index = index;
    if (index.busy) {
      this.id = 0;
      this.own = new Map();
    } else {
      index.busy = true;
      this.id = ++index.rounds;
      this.own = undefined;
    }
  }

  get size(): number {
    return this.observed.length;
  }

  *values(): Iterable<Observation> {
    for (let i = 0; i < this.observed.length; i++) yield { attributes: this.attributes[i]!, value: this.observed[i]! };
  }
}

const EMPTY: Attributes = Object.freeze({});

/**
 * The values observed during one collection of one source. A new round per collection means a series
 * that is no longer observed disappears, and a round that failed is simply not exported.
 */
export class ObservationRound {
  readonly series = new Map<ObservableInstrument, InstrumentObservations>();
  /** Ready-made metrics the source's callbacks added (SourceContext.produce). */
  readonly produced: MetricData[] = [];
  readonly #limit: number;
  #closed = false;
  #overflow: SeriesLimitError | undefined;
  #lastInstrument: ObservableInstrument | undefined;
  #last: InstrumentRound | undefined;

  constructor(seriesLimit: number) {
    this.#limit = seriesLimit;
  }

  record(instrument: ObservableInstrument, value: number, attributes: Attributes = EMPTY): void {
    // Like the SDK's own ObservableResult: what is not a number (a source's string, undefined) is not an observation.
    if (this.#closed || typeof value !== 'number' || Number.isNaN(value)) return;
    const round = instrument === this.#lastInstrument ? this.#last! : this.#instrumentRound(instrument);
    const observed = round.observed;
    if (round.own === undefined) {
      // The series the previous round observed next, if this is it: no key to build, no lookup.
      const expected = round.index.order[round.cursor];
      if (expected !== undefined && expected.round !== round.id && observed.length < this.#limit && sameAttributes(expected, attributes)) {
        round.cursor++;
        this.#add(round, expected, value);
        return;
      }
      const key = attributesKey(attributes);
      const known = round.index.known.get(key);
      if (known !== undefined && known.round === round.id) {
        observed[known.slot] = value;
      } else if (observed.length < this.#limit) {
        let entry = known;
        if (entry === undefined) {
          const copy = frozenCopy(attributes);
          const names = Object.keys(copy);
          entry = { attributes: copy, size: names.length, comparable: names.every((n) => copy[n] !== undefined), round: 0, slot: 0 };
          round.index.known.set(key, entry);
        } else {
          // Seen in the previous round at entry.slot: expect what followed it there next.
          round.cursor = entry.slot + 1;
        }
        this.#add(round, entry, value);
      } else {
        this.#overLimit(instrument);
      }
    } else {
      const key = attributesKey(attributes);
      const slot = round.own.get(key);
      if (slot !== undefined) {
        observed[slot] = value;
      } else if (observed.length < this.#limit) {
        round.own.set(key, observed.length);
        round.attributes.push(round.index.known.get(key)?.attributes ?? frozenCopy(attributes));
        observed.push(value);
      } else {
        this.#overLimit(instrument);
      }
    }
  }

  #add(round: InstrumentRound, entry: Known, value: number): void {
    entry.round = round.id;
    entry.slot = round.observed.length;
    round.known.push(entry);
    round.attributes.push(entry.attributes);
    round.observed.push(value);
  }

  produce(metrics: readonly MetricData[]): void {
    if (this.#closed) return;
    for (const metric of metrics) this.produced.push(metric);
  }

  /** Late observations from callbacks that outlived the collection are ignored. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const round of this.series.values()) {
      const { index, observed, own, known, id } = round as InstrumentRound;
      if (own !== undefined) continue;
      index.order = known;
      // Forget the attribute sets this round did not observe, so series that come and go do not pile up.
      if (index.known.size > observed.length) {
        for (const [key, known] of index.known) if (known.round !== id) index.known.delete(key);
      }
      index.busy = false;
    }
  }

  get overflow(): SeriesLimitError | undefined {
    return this.#overflow;
  }

  #instrumentRound(instrument: ObservableInstrument): InstrumentRound {
    let round = this.series.get(instrument) as InstrumentRound | undefined;
    if (round === undefined) {
      // Two rounds of one source can overlap (a scrape and a push); only one may fill the instrument's index.
      round = new InstrumentRound(instrument.seriesIndex);
      this.series.set(instrument, round);
    }
    this.#lastInstrument = instrument;
    this.#last = round;
    return round;
  }

  #overLimit(instrument: ObservableInstrument): void {
    this.#overflow ??= new SeriesLimitError(
      `instrument "${instrument.name}" exceeded the series limit of ${this.#limit} (raise global.seriesLimit or reduce its labels)`,
    );
  }
}

// Attribute sets are unordered: key them by sorted names so {a,b} and {b,a} are one series. Each name and string value
// is prefixed by its length, so no value can pass for a separator ({a: "x;b=y"} is not {a: "x", b: "y"}), and other
// values are typed, so {a: 1} and {a: "1"} are two series, as in the OpenTelemetry SDK.
function attributesKey(attributes: Attributes): string {
  const names = Object.keys(attributes);
  const count = names.length;
  if (count === 0) return '';
  for (let i = 1; i < count; i++) {
    if (names[i - 1]! > names[i]!) {
      names.sort();
      break;
    }
  }
  const parts = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const name = names[i]!;
    const value = attributes[name];
    // A non-string's text never starts with "s" and never holds \u0001 (JSON escapes it inside arrays).
    parts[i] =
      typeof value === 'string'
        ? `${name.length}:${name}s${value.length}:${value}`
        : `${name.length}:${name}${typeof value === 'object' ? JSON.stringify(value) : String(value)}\u0001`;
  }
  // One flat string (kept as the index's key); += would keep a rope.
  return parts.join('');
}

// Whether `attributes` holds exactly the names and values of a known set (strictly equal values mean equal keys).
function sameAttributes(known: Known, attributes: Attributes): boolean {
  if (!known.comparable) return false;
  const kept = known.attributes;
  let count = 0;
  for (const name in attributes) {
    const value = attributes[name];
    if (value === undefined || value !== kept[name] || !Object.hasOwn(attributes, name)) return false;
    count++;
  }
  return count === known.size;
}

// Frozen, so the caller changing its object later cannot change a kept series (arrays are copied too).
function frozenCopy(attributes: Attributes): Attributes {
  const copy: Attributes = {};
  for (const name of Object.keys(attributes)) {
    const value: AttributeValue | undefined = attributes[name];
    const kept = Array.isArray(value) ? (Object.freeze([...value]) as AttributeValue) : value;
    // Assigning a key named __proto__ would set the copy's prototype instead of keeping the attribute.
    if (name === '__proto__') Object.defineProperty(copy, name, { value: kept, enumerable: true });
    else copy[name] = kept;
  }
  return Object.freeze(copy);
}
