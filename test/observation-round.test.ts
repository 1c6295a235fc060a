import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Attributes } from '@opentelemetry/api';
import { type ObservableInstrument, ObservableRegistry } from '../src/collector/observable-registry.ts';
import { type Observation, ObservationRound } from '../src/collector/observation-round.ts';

function observed(round: ObservationRound, instrument: ObservableInstrument): [string, number][] {
  const series = round.series.get(instrument);
  if (!series) return [];
  // Names sorted: a kept attribute set keeps the order of names it was first observed with.
  const canonical = (a: Attributes) => JSON.stringify(Object.fromEntries(Object.entries(a).sort(([x], [y]) => (x < y ? -1 : 1))));
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

test('series a round no longer observes disappear from it, and are forgotten', () => {
  const g = setup();
  const first = new ObservationRound(10);
  for (const k of ['a', 'b', 'c']) first.record(g, 1, { k });
  first.close();
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
