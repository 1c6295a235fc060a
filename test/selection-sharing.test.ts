// Concurrent `?source=` scrapes share a collection only with the same selection (issue 13): PrometheusPull in-process,
// where the sources' collections are gated so that the scrapes really overlap.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ValueType } from '@opentelemetry/api';
import { emptyResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  type CollectionResult,
  DataPointType,
  MeterProvider,
  type MetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import { pino } from 'pino';
import { PrometheusPull, type SelectableSources } from '../src/telemetry/prometheus-pull.ts';

const ALL = ['a', 'b', 'c'];

/** Sources a, b and c; each collection (of all or of a selection) finishes only when the test says so. */
class GatedSources implements MetricProducer, SelectableSources {
  /** The names each collection was asked for, in order. */
  readonly calls: string[][] = [];
  #release: (() => void)[] = [];

  collect(): Promise<CollectionResult> {
    return this.collectSelected(new Set(ALL));
  }

  async collectSelected(names: ReadonlySet<string>): Promise<CollectionResult> {
    const n = this.calls.push([...names]);
    await new Promise<void>((resolve) => this.#release.push(resolve));
    const metrics = [...names].map(
      (name): MetricData => ({
        descriptor: { name: `${name}_collection`, description: 'which collection', unit: '', valueType: ValueType.INT },
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.GAUGE,
        dataPoints: [{ startTime: [0, 0], endTime: [0, 0], attributes: {}, value: n }],
      }),
    );
    return { errors: [], resourceMetrics: { resource: emptyResource(), scopeMetrics: [{ scope: { name: 'gated' }, metrics }] } };
  }

  releaseAll(): void {
    for (const release of this.#release.splice(0)) release();
  }

  async waitForCalls(n: number): Promise<void> {
    while (this.calls.length < n) await new Promise((resolve) => setImmediate(resolve));
  }
}

function setup() {
  const sources = new GatedSources();
  const resource = resourceFromAttributes({ 'service.name': 'selection-test' });
  const pull = new PrometheusPull([sources], pino({ level: 'silent' }), { scopeLabels: false, targetInfo: true }, { sources, resource });
  const provider = new MeterProvider({ resource, readers: [pull.reader] });
  // One of the exporter's own instruments: on the MeterProvider, so only in scrapes without a selection.
  provider
    .getMeter('self')
    .createObservableGauge('self_metric')
    .addCallback((result) => result.observe(1));
  return { sources, pull, provider };
}

/** The metric names of a text body, without the comments. */
const names = (body: Buffer) =>
  body
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.replace(/[{ ].*/, ''))
    .sort();

test('scrapes of the same selection share one collection; other selections and the full scrape get their own', async () => {
  const { sources, pull, provider } = setup();
  try {
    const scrapes = Promise.all([
      pull.scrape(5_000, undefined, new Set(['b', 'a'])),
      pull.scrape(5_000, undefined, new Set(['a', 'b'])),
      pull.scrape(5_000, undefined, new Set(['c'])),
      pull.scrape(5_000),
    ]);
    await sources.waitForCalls(3);
    sources.releaseAll();
    const [ba, ab, c, all] = await scrapes;
    assert.equal(sources.calls.length, 3, 'three collections for four scrapes');
    assert.equal(ba, ab, 'the same selection in another order shares the body');
    assert.deepEqual(names(ba.body), ['a_collection', 'b_collection', 'target_info']);
    assert.deepEqual(names(c.body), ['c_collection', 'target_info']);
    assert.deepEqual(names(all.body), ['a_collection', 'b_collection', 'c_collection', 'self_metric', 'target_info']);
    assert.match(ba.body.toString(), /^target_info\{service_name="selection-test"\} 1$/m);
  } finally {
    await provider.shutdown();
  }
});

test('a selection collection is never reused once it has finished', async () => {
  const { sources, pull, provider } = setup();
  try {
    const first = pull.scrape(5_000, undefined, new Set(['a']));
    await sources.waitForCalls(1);
    sources.releaseAll();
    assert.match((await first).body.toString(), /^a_collection 1$/m);
    const second = pull.scrape(5_000, undefined, new Set(['a']));
    await sources.waitForCalls(2);
    sources.releaseAll();
    assert.match((await second).body.toString(), /^a_collection 2$/m);
  } finally {
    await provider.shutdown();
  }
});
