import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually } from './support/eventually.ts';
import { startTestExporter, type TestExporter } from './support/exporter.ts';
import { family, scrape } from './support/scrape.ts';

describe('demo source', () => {
  let exporter: TestExporter;
  before(async () => {
    exporter = await startTestExporter('sources: [{ kind: demo }]');
  });
  after(() => exporter.stop());

  test('random_number is an integer gauge from 1 to 20, with its help text', async () => {
    const { body } = await scrape(exporter.url);
    assert.match(body, /^# HELP random_number A random number$/m);
    assert.match(body, /^# TYPE random_number gauge$/m);
    const [[, value]] = family(body, 'random_number') as [[string, number]];
    assert.ok(Number.isInteger(value) && value >= 1 && value <= 20, `random_number = ${value}`);
  });

  test('random_number_2_total is a counter that grows by 1 to 30 a second and not per scrape', async () => {
    const counter = async () => (await scrape(exporter.url)).samples.get('random_number_2_total')!;
    const first = await counter();
    // Extra collections within the same second must not move it.
    const again = await counter();
    assert.ok(again - first <= 30, `moved by ${again - first} between two immediate scrapes`);
    const since = performance.now();
    const later = await eventually(
      async () => {
        const value = await counter();
        assert.ok(value - again >= 2, `grew by ${value - again} so far`);
        return value;
      },
      { intervalMs: 200 },
    );
    // At most 30 a second, counting the second it was in when first read and the one it is in now.
    const seconds = Math.ceil((performance.now() - since) / 1000) + 1;
    assert.ok(later - again <= 30 * seconds, `grew by ${later - again} in under ${seconds} s`);
    const { body } = await scrape(exporter.url);
    assert.match(body, /^# HELP random_number_2_total A random number 2\.0$/m);
    assert.match(body, /^# TYPE random_number_2_total counter$/m);
  });

  test('request_processing_seconds is a histogram in seconds that counts collections', async () => {
    const before = (await scrape(exporter.url)).samples.get('request_processing_seconds_count') ?? 0;
    const { body, samples: all } = await scrape(exporter.url);
    assert.match(body, /^# HELP request_processing_seconds Time spent processing request$/m);
    assert.match(body, /^# TYPE request_processing_seconds histogram$/m);
    assert.ok(all.get('request_processing_seconds_count')! > before);
    assert.ok(all.has('request_processing_seconds_bucket{le="0.005"}'), 'second-scale buckets');
    assert.ok(all.has('request_processing_seconds_bucket{le="10"}'));
    assert.ok(all.get('request_processing_seconds_sum')! < 1);
  });
});
