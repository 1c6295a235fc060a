import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ValueType } from '@opentelemetry/api';
import { emptyResource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  type CollectionResult,
  DataPointType,
  MeterProvider,
  type MetricCollectOptions,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import { pino } from 'pino';
import { CollectTimeoutError, PrometheusPull } from '../src/telemetry/prometheus-pull.ts';

/** A producer whose collections finish only when the test says so. */
class GatedProducer implements MetricProducer {
  calls: (number | undefined)[] = [];
  #release: (() => void)[] = [];

  async collect(options?: MetricCollectOptions): Promise<CollectionResult> {
    const n = this.calls.push(options?.timeoutMillis);
    await new Promise<void>((resolve) => this.#release.push(resolve));
    return {
      errors: [],
      resourceMetrics: {
        resource: emptyResource(),
        scopeMetrics: [
          {
            scope: { name: 'gated' },
            metrics: [
              {
                descriptor: { name: 'collection_number', description: 'which collection', unit: '', valueType: ValueType.INT },
                aggregationTemporality: AggregationTemporality.CUMULATIVE,
                dataPointType: DataPointType.GAUGE,
                dataPoints: [{ startTime: [0, 0], endTime: [0, 0], attributes: {}, value: n }],
              },
            ],
          },
        ],
      },
    };
  }

  releaseAll(): void {
    for (const release of this.#release.splice(0)) release();
  }

  async waitForCalls(n: number): Promise<void> {
    while (this.calls.length < n) await new Promise((resolve) => setImmediate(resolve));
  }
}

function setup() {
  const producer = new GatedProducer();
  const pull = new PrometheusPull([producer], pino({ level: 'silent' }), { scopeLabels: false, targetInfo: false });
  const provider = new MeterProvider({ readers: [pull.reader] });
  return { producer, pull, provider };
}

const text = (body: Buffer) => body.toString('utf8');

test('concurrent scrapes share one collection, one body and one gzip', async () => {
  const { producer, pull, provider } = setup();
  try {
    const scrapes = Promise.all([pull.scrape(5_000), pull.scrape(5_000), pull.scrape(1_000)]);
    await producer.waitForCalls(1);
    producer.releaseAll();
    const [a, b, c] = await scrapes;
    assert.equal(producer.calls.length, 1, 'one collection for three scrapes');
    assert.equal(a, b);
    assert.equal(a, c);
    assert.match(text(a.body), /^collection_number 1$/m);
    assert.equal(await a.gzip(), await b.gzip(), 'compressed once');
  } finally {
    await provider.shutdown();
  }
});

test('a scrape after a collection finished gets a fresh one', async () => {
  const { producer, pull, provider } = setup();
  try {
    const first = pull.scrape(5_000);
    await producer.waitForCalls(1);
    producer.releaseAll();
    assert.match(text((await first).body), /^collection_number 1$/m);
    const second = pull.scrape(5_000);
    await producer.waitForCalls(2);
    producer.releaseAll();
    assert.match(text((await second).body), /^collection_number 2$/m);
  } finally {
    await provider.shutdown();
  }
});

test('a scrape with a longer budget than the collection in flight starts its own, which later scrapes join', async () => {
  const { producer, pull, provider } = setup();
  try {
    const short = pull.scrape(1_000);
    await producer.waitForCalls(1);
    const long = pull.scrape(8_000);
    await producer.waitForCalls(2);
    const joiner = pull.scrape(8_000);
    producer.releaseAll();
    const [s, l, j] = await Promise.all([short, long, joiner]);
    assert.equal(producer.calls.length, 2);
    assert.deepEqual(producer.calls, [1_000, 8_000], 'each collection has the budget of the scrape that started it');
    assert.match(text(s.body), /^collection_number 1$/m);
    assert.match(text(l.body), /^collection_number 2$/m);
    assert.equal(j, l);
  } finally {
    await provider.shutdown();
  }
});

test('a scrape that joins still answers by its own deadline; the collection goes on for the others', async () => {
  const { producer, pull, provider } = setup();
  try {
    const patient = pull.scrape(30_000);
    await producer.waitForCalls(1);
    // 10 ms budget (+ the fixed grace): it gives up long before the collection it joined ends.
    await assert.rejects(pull.scrape(10), CollectTimeoutError);
    assert.equal(producer.calls.length, 1, 'it joined rather than starting another collection');
    producer.releaseAll();
    assert.match(text((await patient).body), /^collection_number 1$/m);
  } finally {
    await provider.shutdown();
  }
});

test('a failed collection fails every scrape that shares it, and the next scrape tries again', async () => {
  let calls = 0;
  const failing: MetricProducer = {
    async collect() {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (calls === 1) throw new Error('backend down');
      return { errors: [], resourceMetrics: { resource: emptyResource(), scopeMetrics: [] } };
    },
  };
  const pull = new PrometheusPull([failing], pino({ level: 'silent' }));
  const provider = new MeterProvider({ readers: [pull.reader] });
  try {
    const results = await Promise.allSettled([pull.scrape(5_000), pull.scrape(5_000)]);
    assert.deepEqual(
      results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'answered')),
      ['Error: backend down', 'Error: backend down'],
    );
    assert.equal(calls, 1);
    await pull.scrape(5_000);
    assert.equal(calls, 2);
  } finally {
    await provider.shutdown();
  }
});
