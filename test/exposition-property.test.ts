import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import parsePrometheusTextFormat, { type ParsedFamily, type ParsedSample } from 'parse-prometheus-text-format';
import type { ScriptedMetric } from './fixtures/sources/scripted.ts';
import { serveCli } from './support/cli.ts';
import { scrape } from './support/scrape.ts';
import { scriptedSource } from './support/scripted.ts';
import { requireTool } from './support/tools.ts';

// Property: whatever names, attributes and values a module source reports, every exposition passes promtool AND
// reads back, through a second, independent parser, as exactly what the source reported under OpenTelemetry's
// Prometheus compatibility rules (names sanitised, colliding keys joined by `;`, values escaped and unescaped).

const HOSTILE = [
  '__proto__',
  'constructor',
  '',
  '"',
  '\\',
  '\n',
  '\r\n',
  'le',
  'a.b',
  'a_b',
  'a-b',
  '0abc',
  '9',
  '_',
  '__',
  '{',
  '}',
  ',',
  '=',
  '#',
  ' ',
  'ü',
  '📈',
  '\u2028',
  '\ud800',
  '\u0000',
  'NaN',
  '+Inf',
];
const hostileString = fc.oneof(
  fc.constantFrom(...HOSTILE),
  fc.string({
    unit: fc.constantFrom('a', 'b', '_', '.', '-', '/', '"', '\\', '\n', '0', '1', 'é', '{', '}', ',', '=', ' ', '#'),
    maxLength: 8,
  }),
  fc.string({ unit: 'binary', maxLength: 10 }),
);
// OpenTelemetry's instrument-name syntax, which observable instruments must follow (their creation fails otherwise).
const otelName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.\-/]{0,12}$/);
const attributeValue = fc.oneof(
  hostileString,
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.array(fc.oneof(hostileString, fc.integer()), { maxLength: 3 }),
);
const attributes = fc.dictionary(hostileString, attributeValue, { maxKeys: 4 });
const oddNumber = fc.oneof(fc.double(), fc.constantFrom('NaN', 'Infinity', '-Infinity', '-0', 1e308, -1e308, 5e-324, 0, 2 ** 53 + 1));

interface Drawn {
  readonly instrument: ScriptedMetric['instrument'];
  readonly tail: string;
  readonly description: string;
  readonly unit: string;
  readonly points: { attributes: Record<string, unknown>; value: number | string }[];
}

const observable = fc.record({
  instrument: fc.constantFrom('gauge' as const, 'counter' as const, 'updowncounter' as const),
  tail: otelName,
  description: hostileString,
  unit: hostileString,
  points: fc.array(fc.record({ attributes, value: oddNumber }), { maxLength: 4 }),
});
// Synchronous instruments take any name (the SDK only warns); their values stay within what the SDK aggregates.
const synchronous = fc.record({
  instrument: fc.constantFrom('sync_counter' as const, 'sync_gauge' as const, 'sync_histogram' as const),
  tail: hostileString,
  description: hostileString,
  unit: hostileString,
  points: fc.array(fc.record({ attributes, value: fc.double({ min: 0, max: 1e12, noNaN: true }) }), { maxLength: 4 }),
});

// JSON has no NaN, ±Infinity or -0: the scripted source reads them from strings.
const jsonNumber = (value: number | string) =>
  typeof value !== 'number' || (Number.isFinite(value) && !Object.is(value, -0)) ? value : Object.is(value, -0) ? '-0' : String(value);

/** Unique names (`m<i>_` then the drawn part, so sanitising cannot merge two), and one series per point. */
function toSpec(drawn: readonly Drawn[]): ScriptedMetric[] {
  return drawn.map((d, i) => ({
    name: `m${i}_${d.tail}`,
    instrument: d.instrument,
    // After a word: this parser rejects a HELP line with nothing but spaces (Prometheus reads it).
    description: d.description === '' ? '' : `help ${d.description}`,
    unit: d.unit,
    points: d.points.map((p, j) => ({ attributes: { ...p.attributes, series: String(j) }, value: jsonNumber(p.value) })),
  }));
}

// The oracle: the compatibility rules written out independently of src/exposition/prometheus-names.ts and
// metric-names.ts (the default translation strategy, UnderscoreEscapingWithSuffixes).
const wellFormed = (text: string) => Buffer.from(text, 'utf8').toString('utf8'); // lone surrogates → U+FFFD
const collapse = (name: string) => name.replace(/[^a-zA-Z0-9_]/g, '_').replace(/_+/g, '_');

// Compatibility spec, Metric Metadata: UCUM units as words; denominators of rates as Prometheus' translator words them.
const UNIT_WORDS: Record<string, string> = {
  ...{ d: 'days', h: 'hours', min: 'minutes', s: 'seconds', ms: 'milliseconds', us: 'microseconds', ns: 'nanoseconds' },
  ...{ By: 'bytes', KiBy: 'kibibytes', MiBy: 'mebibytes', GiBy: 'gibibytes', TiBy: 'tebibytes' },
  ...{ kBy: 'kilobytes', MBy: 'megabytes', GBy: 'gigabytes', TBy: 'terabytes' },
  ...{ m: 'meters', V: 'volts', A: 'amperes', J: 'joules', W: 'watts', g: 'grams', Cel: 'celsius', Hz: 'hertz', '%': 'percent', '1': '' },
};
const PER_WORDS: Record<string, string> = { s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week', mo: 'month', y: 'year' };

/** The name suffix of a unit (default strategy): annotations in braces dropped, `a/b` as `a_per_b`, unknown units kept. */
function unitSuffix(unit: string): string {
  const slash = unit.indexOf('/');
  const word = (part: string, words: Record<string, string>) => {
    const p = part.trim();
    return p === '' || /[{}]/.test(p) ? '' : Object.hasOwn(words, p) ? words[p]! : p;
  };
  const main = word(slash < 0 ? unit : unit.slice(0, slash), UNIT_WORDS);
  const per = slash < 0 ? '' : word(unit.slice(slash + 1), PER_WORDS);
  return collapse([main, per && `per_${per}`].filter((w) => w !== '').join('_')).replace(/^_|_$/g, '');
}

function expectedName(metric: ScriptedMetric): string {
  let name = collapse(metric.name.replace(/\\/g, '\\\\').replace(/\n/g, '\\n'));
  const counter = metric.instrument === 'counter' || metric.instrument === 'sync_counter';
  const gauge = metric.instrument === 'gauge' || metric.instrument === 'sync_gauge';
  const type = counter ? 'total' : gauge && (metric.unit ?? '').trim() === '1' ? 'ratio' : '';
  // The type suffix goes last, once; the unit before it, unless the name already ends with it.
  if (type !== '' && name !== type && name.endsWith(`_${type}`)) name = name.slice(0, -(type.length + 1));
  const unit = unitSuffix(metric.unit ?? '');
  if (unit !== '' && name !== unit && !name.endsWith(`_${unit}`)) name = `${name}_${unit}`;
  return collapse(type === '' ? name : `${name}_${type}`);
}

function expectedLabels(attributes: Record<string, unknown>, histogram: boolean): Record<string, string> {
  const groups = new Map<string, string[]>();
  for (const key of Object.keys(attributes).sort()) {
    let name = collapse(key);
    if (name === '') continue;
    if (/^[0-9]/.test(name)) name = `key_${name}`;
    if (histogram && name === 'le') name = 'exported_le';
    groups.set(name, [...(groups.get(name) ?? []), key]);
  }
  const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  return Object.fromEntries([...groups].map(([name, keys]) => [name, wellFormed(keys.map((k) => text(attributes[k])).join(';'))]));
}

// A Prometheus float as Go's ParseFloat reads it (+Inf, -Inf, NaN and decimal or exponent notation).
const promNumber = (text: string) => (text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : Number(text));
const sameNumber = (text: string | undefined, expected: number) =>
  text !== undefined && (Number.isNaN(expected) ? text === 'NaN' : promNumber(text) === expected);

function checkFamily(body: string, families: Map<string, ParsedFamily>, metric: ScriptedMetric): void {
  const name = expectedName(metric);
  const family = families.get(name);
  const histogram = metric.instrument === 'sync_histogram';
  const observed = metric.points.filter((p) => !Number.isNaN(Number(p.value)) || metric.instrument.startsWith('sync_'));
  if (observed.length === 0 && !family) return; // nothing observed: a family with no series may be left out
  assert.ok(family, `family ${JSON.stringify(name)} missing in\n${body}`);
  // This parser trims the whitespace that ends a HELP line (Prometheus keeps it), then unescapes it.
  const line = (wellFormed(metric.description ?? '') || 'description missing').replace(/\\/g, '\\\\').replace(/\n/g, '\\n').trimEnd();
  const help = line.replace(/\\([\\n])/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
  assert.equal(family.help, help, `HELP of ${name}`);
  const type = histogram
    ? 'HISTOGRAM'
    : metric.instrument === 'gauge' || metric.instrument.endsWith('gauge') || metric.instrument === 'updowncounter'
      ? 'GAUGE'
      : 'COUNTER';
  assert.equal(family.type, type, `TYPE of ${name}`);
  if (histogram) {
    // This parser reads a histogram's buckets but drops its labels, _count and _sum when _count comes first (as the
    // SDK writes it), merging its series: count the _count lines instead (promtool checked their syntax).
    const counts = body.split('\n').filter((l) => l.startsWith(`${name}_count{`) || l.startsWith(`${name}_count `));
    assert.equal(counts.length, metric.points.length, `${name} series`);
    assert.ok(
      counts.every((l) => l.endsWith(' 1')),
      `${name}: one observation per series`,
    );
    return;
  }
  for (const point of metric.points) {
    const value = Number(point.value);
    const labels = expectedLabels(point.attributes, histogram);
    const sample: ParsedSample | undefined = family.metrics.find((s) => isDeepStrictEqual(s.labels ?? {}, labels));
    if (Number.isNaN(value) && !metric.instrument.startsWith('sync_')) {
      assert.equal(sample, undefined, `NaN is no observation (${name})`);
      continue;
    }
    assert.ok(sample, `no series ${JSON.stringify(labels)} in ${name}: ${JSON.stringify(family.metrics.map((s) => s.labels))}`);
    assert.ok(sameNumber(sample.value, value === 0 ? 0 : value), `${name}${JSON.stringify(labels)}: ${sample.value} ≠ ${value}`);
  }
}

const SELF = /^(custom_exporter_|process_|nodejs_|target_info$)/;

test('property: every exposition of random hostile names, attributes and values passes promtool and reads back as reported', async (t) => {
  const promtool = requireTool(t, 'promtool', 'apt-get install prometheus');
  if (!promtool) return;
  const dir = await mkdtemp(join(tmpdir(), 'exposition-property-'));
  const file = join(dir, 'sources.yaml');
  await writeFile(file, 'sources: [{ kind: demo }]\n');
  const cli = await serveCli(['--config.file', file, '--web.enable-lifecycle']);
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(observable, synchronous), { minLength: 1, maxLength: 5 }), async (drawn) => {
        const spec = toSpec(drawn);
        await writeFile(file, `sources:\n${await scriptedSource(dir, 'prop', spec)}`);
        const reloaded = await fetch(`${cli.url}/-/reload`, { method: 'POST' });
        assert.equal(reloaded.status, 200, await reloaded.text());
        const { body } = await scrape(cli.url);

        const lint = spawnSync(promtool, ['check', 'metrics'], { input: body, encoding: 'utf8' });
        // 0: clean; 3: lint findings only (e.g. camelCase names), never a parse error (1).
        assert.ok(
          lint.status === 0 || (lint.status === 3 && !/error/.test(lint.stdout + lint.stderr)),
          `promtool ${lint.status}: ${lint.stdout}${lint.stderr}\n${body}`,
        );

        const families = new Map(parsePrometheusTextFormat(body).map((f) => [f.name, f]));
        assert.equal(families.get('custom_exporter_source_up')?.metrics.find((s) => s.labels?.source === 'prop')?.value, '1');
        for (const metric of spec) checkFamily(body, families, metric);
        // Nothing else: no family of an earlier run's (restarted) source, no stray names.
        const expected = new Set(spec.map(expectedName));
        const others = [...families.keys()].filter((n) => !SELF.test(n) && !expected.has(n));
        assert.deepEqual(others, [], 'only the families the source reported');
      }),
      // 100 pages take ~5–10 s here; on a loaded machine the runs stop after 25 s (the ones done must all pass).
      { numRuns: 100, interruptAfterTimeLimit: 25_000 },
    );
  } finally {
    cli.signal('SIGTERM');
    await cli.exited;
  }
});
