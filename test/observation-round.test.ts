import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Attributes, AttributeValue } from '@opentelemetry/api';
import fc from 'fast-check';
import { type ObservableInstrument, ObservableRegistry } from '../src/collector/observable-registry.ts';
import { type Observation, ObservationRound } from '../src/collector/observation-round.ts';
import { eventually } from './support/eventually.ts';

function observed(round: ObservationRound, instrument: ObservableInstrument): [string, number][] {
  const series = round.series.get(instrument);
  if (!series) return [];
  // Names sorted: a kept attribute set keeps the order of names it was first observed with. An undefined value is
  // shown, since {a, b: undefined} and {a} are different series.
  const canonical = (a: Attributes) =>
    JSON.stringify(Object.fromEntries(Object.entries(a).sort(([x], [y]) => (x < y ? -1 : 1))), (_, v) => v ?? '<undefined>');
  return [...series.values()].map((o: Observation) => [canonical(o.attributes), o.value]);
}

function setup() {
  const registry = new ObservableRegistry();
  return registry.create('g', 'gauge');
}

test('a round keeps one series per attribute set, whatever the order of names; the last value wins', () => {
  const g = setup();
  const round = new ObservationRound(10);
  round.record(g, 1, { a: '1', b: '2' });
  round.record(g, 2, { b: '2', a: '1' });
  round.record(g, 3, {});
  round.record(g, 4);
  round.record(g, NaN, { a: 'nan' });
  round.close();
  assert.deepEqual(observed(round, g), [
    ['{"a":"1","b":"2"}', 2],
    ['{}', 4],
  ]);
});

test("attribute sets are kept frozen across rounds, so a later change to the caller's object changes nothing", () => {
  const g = setup();
  const attributes = { k: 'v', list: ['x'] };
  const first = new ObservationRound(10);
  first.record(g, 1, attributes);
  first.close();
  const kept = [...first.series.get(g)!.values()][0]!.attributes;
  assert.ok(Object.isFrozen(kept));
  assert.ok(Object.isFrozen(kept.list));
  attributes.k = 'changed';
  attributes.list.push('y');
  assert.deepEqual(kept, { k: 'v', list: ['x'] });

  const second = new ObservationRound(10);
  second.record(g, 2, { k: 'v', list: ['x'] });
  second.close();
  assert.equal([...second.series.get(g)!.values()][0]!.attributes, kept, 'the same object, reused');
  assert.deepEqual(observed(first, g), [['{"k":"v","list":["x"]}', 1]], 'an earlier round keeps its own values');
});

const keptAttributes = (round: ObservationRound, instrument: ObservableInstrument) => round.series.get(instrument)?.attributes ?? [];

test('series a round no longer observes disappear from it, and are forgotten', () => {
  const g = setup();
  const first = new ObservationRound(10);
  for (const k of ['a', 'b', 'c']) first.record(g, 1, { k });
  first.close();
  const [a1, b1] = keptAttributes(first, g);
  const second = new ObservationRound(10);
  second.record(g, 2, { k: 'b' });
  second.close();
  assert.deepEqual(observed(second, g), [['{"k":"b"}', 2]]);
  const third = new ObservationRound(10);
  third.record(g, 3, { k: 'a' });
  third.record(g, 3, { k: 'b' });
  third.close();
  assert.deepEqual(
    observed(third, g),
    [
      ['{"k":"a"}', 3],
      ['{"k":"b"}', 3],
    ],
    'order of first observation in the round',
  );
  const [a3, b3] = keptAttributes(third, g);
  assert.equal(b3, b1, 'a series every round observed is kept (the same object)');
  assert.notEqual(a3, a1, 'a series the second round did not observe was forgotten, and is copied afresh');
});

test('forgotten series are released: a thousand one-off series leave only the latest one reachable', async () => {
  const g = setup();
  const kept = oneOffSeries(g, 1000);
  // Checked in a later task each time: a WeakRef's target stays alive until the end of the job that made or read it.
  await eventually(
    () => {
      fullGc();
      assert.deepEqual(
        kept.flatMap((ref, i) => (ref.deref() === undefined ? [] : [i])),
        [999],
      );
    },
    { timeoutMs: 2000, intervalMs: 10 },
  );
});

// In a function of its own, so that no frame of the test (suspended at an await) still holds a round.
function oneOffSeries(instrument: ObservableInstrument, count: number): WeakRef<Attributes>[] {
  const kept: WeakRef<Attributes>[] = [];
  for (let i = 0; i < count; i++) {
    const round = new ObservationRound(10);
    round.record(instrument, i, { request: `r${i}` });
    round.close();
    kept.push(new WeakRef(keptAttributes(round, instrument)[0]!));
  }
  return kept;
}

// gc() without --expose-gc on the command line: node --test runs every file the same way.
function fullGc(): void {
  setFlagsFromString('--expose-gc');
  try {
    (runInNewContext('gc') as () => void)();
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}

test('a series observed with fewer, or more, attributes than the one expected next is exported with exactly its own', () => {
  const g = setup();
  const first = new ObservationRound(10);
  first.record(g, 1, { a: '1', b: '1' });
  first.record(g, 1, { a: '2' });
  first.close();
  const second = new ObservationRound(10);
  second.record(g, 2, { a: '1' }); // expected next: {a: "1", b: "1"}
  second.record(g, 3, { a: '2', b: '2' }); // expected next: {a: "2"}
  second.close();
  assert.deepEqual(observed(second, g), [
    ['{"a":"1"}', 2],
    ['{"a":"2","b":"2"}', 3],
  ]);
});

test('overlapping rounds of one instrument do not mix their series or values', () => {
  const g = setup();
  const a = new ObservationRound(10);
  const b = new ObservationRound(10);
  a.record(g, 1, { k: 'x' });
  b.record(g, 10, { k: 'y' });
  b.record(g, 11, { k: 'x' });
  a.record(g, 2, { k: 'y' });
  a.record(g, 3, { k: 'x' });
  b.record(g, 12, { k: 'x' });
  a.close();
  b.close();
  assert.deepEqual(observed(a, g), [
    ['{"k":"x"}', 3],
    ['{"k":"y"}', 2],
  ]);
  assert.deepEqual(observed(b, g), [
    ['{"k":"y"}', 10],
    ['{"k":"x"}', 12],
  ]);
});

test('the series limit fails the round; observations after close are ignored', () => {
  const g = setup();
  const round = new ObservationRound(2);
  round.record(g, 1, { k: '1' });
  round.record(g, 1, { k: '2' });
  round.record(g, 1, { k: '2' });
  const overflow = () => round.overflow; // a getter: read it afresh each time
  assert.equal(overflow(), undefined);
  round.record(g, 1, { k: '3' });
  assert.match(overflow()?.message ?? '', /instrument "g" exceeded the series limit of 2/);
  round.close();
  round.record(g, 5, { k: 'late' });
  assert.equal(round.series.get(g)!.size, 2);
});

test('a callback that repeats itself, reorders, drops and adds series gets the same series as a fresh start would', () => {
  const g = setup();
  const rounds: [Record<string, string | number | undefined>, number][][] = [
    [
      [{ a: '1' }, 1],
      [{ a: '2' }, 2],
      [{ a: '3' }, 3],
    ],
    [
      [{ a: '1' }, 1],
      [{ a: '2' }, 2],
      [{ a: '3' }, 3],
    ],
    [
      [{ a: '3' }, 3],
      [{ a: '1' }, 1],
      [{ a: '4' }, 4],
      [{ a: '2' }, 2],
      [{ a: '1' }, 10],
    ],
    [
      [{ a: '1' }, 1],
      [{ a: '1', b: '1' }, 5],
      [{ a: '2', x: undefined }, 6],
      [{ a: 42 }, 7],
      [{ a: '2' }, 8],
    ],
    [
      [{ b: '1', a: '1' }, 9],
      [{ a: '1' }, 1],
    ],
  ];
  for (const observations of rounds) {
    const round = new ObservationRound(100);
    const fresh = new ObservationRound(100);
    const other = new ObservableRegistry().create('g', 'gauge');
    for (const [attributes, value] of observations) {
      round.record(g, value, attributes);
      fresh.record(other, value, attributes);
    }
    round.close();
    fresh.close();
    assert.deepEqual(observed(round, g), observed(fresh, other));
  }
});

test('attribute sets that differ only in a value type, or by separator-like characters, are different series', () => {
  const g = setup();
  const round = new ObservationRound(100);
  const sets: Attributes[] = [
    { a: 1 },
    { a: '1' },
    { a: true },
    { a: 'true' },
    { a: ['x'] },
    { a: '["x"]' },
    { a: 'x', b: 'y' },
    { a: 'x\u0001b\u0000y' },
    { a: 'x\u0001', b: 'y' },
    { a: '1:a' },
    { '1:a': '' },
  ];
  for (const [i, attributes] of sets.entries()) round.record(g, i, attributes);
  round.close();
  assert.deepEqual(
    keptAttributes(round, g).map((a) => ({ ...a })),
    sets,
  );
});

test('property: two attribute sets are one series exactly when they hold the same names and values', () => {
  // Names and values that look alike once written out, so that any ambiguity in the series key shows.
  const name = fc.constantFrom('a', 'b', '1:a', 'a\u0000', 'b\u0001');
  const value = fc.constantFrom<AttributeValue>('1', 1, 'true', true, ['1'], '["1"]', '', '1\u0001b\u00001', '1:as1:1', 's1:1');
  const attributes = fc.dictionary(name, value, { maxKeys: 3 });
  const canonical = (a: Attributes) => JSON.stringify(Object.entries(a).sort(([x], [y]) => (x < y ? -1 : 1)));
  fc.assert(
    fc.property(fc.array(attributes, { maxLength: 20 }), (sets) => {
      const round = new ObservationRound(100);
      const g = setup();
      for (const attributes of sets) round.record(g, 1, attributes);
      round.close();
      assert.equal(round.series.get(g)?.size ?? 0, new Set(sets.map(canonical)).size);
    }),
    { numRuns: 500, seed: 10 },
  );
});

// Any sequence of rounds gets, in each round, exactly the series and values a first-ever round would get: the
// next-series guess and the kept index are optimisations, never visible (issue 10: a subset passed as a match).
test('property: a round with history observes exactly what a round without history does', () => {
  const value = fc.constantFrom<string | number | boolean | undefined>('1', '2', 1, true, undefined);
  const attributes = fc.dictionary(fc.constantFrom('a', 'b', 'c'), value, { maxKeys: 3 });
  const round = fc.array(fc.tuple(attributes, fc.integer({ min: 0, max: 9 })), { maxLength: 8 });
  fc.assert(
    fc.property(fc.array(round, { minLength: 1, maxLength: 6 }), (rounds) => {
      const g = setup();
      for (const observations of rounds) {
        const withHistory = new ObservationRound(100);
        const fresh = new ObservationRound(100);
        const other = setup();
        for (const [attributes, value] of observations) {
          withHistory.record(g, value, attributes as Attributes);
          fresh.record(other, value, attributes as Attributes);
        }
        withHistory.close();
        fresh.close();
        assert.deepEqual(observed(withHistory, g), observed(fresh, other));
      }
    }),
    { numRuns: 500, seed: 10 },
  );
});
