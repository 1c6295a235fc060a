// The README's "Mapping JSON to metrics" examples run as they are written, through the built exporter (dist/main.js)
// against a real local HTTP server answering with the documents the README shows: the json_exporter migration, and
// each `metrics:` example with the document in its first comment.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type ServingCli, serveCli } from './support/cli.ts';
import { type JsonTarget, startJsonTarget } from './support/json-target.ts';
import { family, scrape } from './support/scrape.ts';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const SECTION = README.slice(README.indexOf('### Mapping JSON to metrics'), README.indexOf('### `http`'));
const MIGRATION = SECTION.slice(SECTION.indexOf('#### Coming from json_exporter'));

/** The built exporter with the config `yaml(target)` that collects from a local server with `routes`, for `check`. */
async function withExporter(
  routes: Parameters<typeof startJsonTarget>[0],
  yaml: (target: JsonTarget) => string,
  check: (cli: ServingCli, target: JsonTarget) => Promise<void>,
): Promise<void> {
  const target = await startJsonTarget(routes);
  try {
    const file = join(await mkdtemp(join(tmpdir(), 'readme-json-')), 'sources.yaml');
    await writeFile(file, yaml(target));
    const cli = await serveCli([`--config.file=${file}`]);
    try {
      await check(cli, target);
    } finally {
      await cli.kill();
    }
  } finally {
    await target.close();
  }
}

test('coming from json_exporter: the migrated config gives the series the README promises', async () => {
  const answer = /```json\n([\s\S]*?)```/.exec(MIGRATION)![1]!;
  const config = /```yaml\n(sources:[\s\S]*?)```/.exec(MIGRATION)![1]!;
  const url = 'https://shop.internal/api/stats';
  assert.ok(config.includes(url));
  const routes = { '/api/stats': () => ({ json: JSON.parse(answer) as unknown }) };
  await withExporter(
    routes,
    (target) => config.replace(url, `${target.url}/api/stats`),
    async (cli, target) => {
      const { body, samples } = await scrape(cli.url);
      assert.equal(samples.get('custom_exporter_source_up{source="shop"}'), 1, body);
      assert.equal(target.last('/api/stats')?.headers['x-tenant'], 'shop');
      // json_exporter's series, as the README lists them.
      assert.equal(samples.get('shop_orders_open{region="eu"}'), 5);
      assert.deepEqual(family(body, 'shop_queue_depth'), [['shop_queue_depth{queue="mail"}', 3]]);
      assert.deepEqual(family(body, 'shop_queue_active'), [['shop_queue_active{queue="mail"}', 1]]);
      assert.deepEqual(family(body, 'shop_refunds'), []);
      // And those it cannot give.
      assert.deepEqual(family(body, 'shop_queue_up'), [
        ['shop_queue_up{queue="mail"}', 1],
        ['shop_queue_up{queue="print"}', 0],
      ]);
      assert.deepEqual(family(body, 'shop_worker_busy'), [
        ['shop_worker_busy{worker="w1"}', 1],
        ['shop_worker_busy{worker="w2"}', 0],
      ]);
      assert.equal(samples.get('shop_updated_seconds'), Date.UTC(2024, 4, 1, 12) / 1000);
      const promised = [...MIGRATION.matchAll(/`(shop_\w+\{[^`]*\}) (\d+)`/g)];
      assert.equal(promised.length, 3, 'the series the prose promises');
      for (const [text, series, value] of promised) assert.equal(samples.get(series!), Number(value), text);
    },
  );
});

test('each `metrics:` example maps the document in its comment, every entry giving series', async () => {
  const examples = [...SECTION.matchAll(/```yaml\nmetrics:\n {2}# (\{.*\})\n([\s\S]*?)```/g)].map((m) => ({
    document: m[1]!,
    metrics: m[2]!,
  }));
  assert.equal(examples.length, 2);
  const routes = Object.fromEntries(examples.map((e, i) => [`/example${i}`, () => ({ json: JSON.parse(e.document) })]));
  const config = (target: JsonTarget) =>
    `sources:\n${examples
      .map(
        (e, i) =>
          `  - kind: http\n    name: example${i}\n    url: ${target.url}/example${i}\n    metrics:\n${e.metrics.trimEnd().replace(/^/gm, '    ')}\n`,
      )
      .join('')}`;
  await withExporter(routes, config, async (cli) => {
    const { body, samples } = await scrape(cli.url);
    for (const [i, e] of examples.entries()) {
      assert.equal(samples.get(`custom_exporter_source_up{source="example${i}"}`), 1, body);
      for (const [, name] of e.metrics.matchAll(/name: (\w+)/g)) assert.ok(family(body, name!).length > 0, `${name} has series`);
    }
    assert.deepEqual(family(body, 'queue_depth'), [
      ['queue_depth{queue="mail",region="eu"}', 3],
      ['queue_depth{queue="print",region="eu"}', 7],
    ]);
    assert.deepEqual(family(body, 'queue_owned'), [['queue_owned{queue="mail",owner="ops"}', 3]]);
    assert.deepEqual(family(body, 'queue_retries'), [
      ['queue_retries{queue="mail"}', 0],
      ['queue_retries{queue="print"}', 0],
    ]);
    assert.equal(samples.get('open_items'), 1);
    assert.equal(samples.get('latency_seconds'), 0.0125);
    assert.equal(samples.get('service_up'), 1);
    assert.equal(samples.get('last_finished_seconds'), Date.UTC(2024, 4, 1, 10) / 1000 + 0.25);
    assert.equal(samples.get('last_local_seconds'), Date.UTC(2024, 2, 31, 1, 30) / 1000);
  });
});
