import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestExporter, type TestExporter } from './support/exporter.ts';
import { family, samples } from './support/exposition.ts';

describe('demo source', () => {
  let exporter: TestExporter;
  before(async () => {
    exporter = await startTestExporter('sources: [{ kind: demo }]');
  });
  after(() => exporter.stop());

  const scrape = async () => (await fetch(`${exporter.url}/metrics`)).text();

  test('random_number is an integer gauge from 1 to 20, with its help text', async () => {
    const body = await scrape();
    assert.match(body, /^# HELP random_number A random number$/m);
    assert.match(body, /^# TYPE random_number gauge$/m);
    const [[, value]] = family(body, 'random_number') as [[string, number]];
    assert.ok(Number.isInteger(value) && value >= 1 && value <= 20, `random_number = ${value}`);
  });

  test('random_number_2_total is a counter that grows by 1 to 30 a second and not per scrape', async () => {
    const first = samples(await scrape()).get('random_number_2_total')!;
    // Extra collections within the same second must not move it.
    const again = samples(await scrape()).get('random_number_2_total')!;
    assert.ok(again - first <= 30, `moved by ${again - first} between two immediate scrapes`);
    await new Promise((r) => setTimeout(r, 2100));
    const body = await scrape();
    assert.match(body, /^# HELP random_number_2_total A random number 2\.0$/m);
    assert.match(body, /^# TYPE random_number_2_total counter$/m);
    const later = samples(body).get('random_number_2_total')!;
    assert.ok(later - again >= 2 && later - again <= 90, `grew by ${later - again} in ~2 s`);
  });

  test('request_processing_seconds is a histogram in seconds that counts collections', async () => {
    const before = samples(await scrape()).get('request_processing_seconds_count') ?? 0;
    const body = await scrape();
    assert.match(body, /^# HELP request_processing_seconds Time spent processing request$/m);
    assert.match(body, /^# TYPE request_processing_seconds histogram$/m);
    const all = samples(body);
    assert.ok(all.get('request_processing_seconds_count')! > before);
    assert.ok(all.has('request_processing_seconds_bucket{le="0.005"}'), 'second-scale buckets');
    assert.ok(all.has('request_processing_seconds_bucket{le="10"}'));
    assert.ok(all.get('request_processing_seconds_sum')! < 1);
  });
});
