// JSON mapping reach (issue 14): @key, { root }, optional, default, count and duplicate label sets, through the
// built exporter (dist/main.js) collecting from a real local HTTP server.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli, type ServingCli, serveCli } from './support/cli.ts';
import { assertConfigRejects } from './support/config-error.ts';
import { type JsonTarget, startJsonTarget } from './support/json-target.ts';
import { family, scrape } from './support/scrape.ts';

// An API that keys its objects by what should be a label, as json_exporter users meet it (#96, #197, #343).
const QUEUES = {
  region: 'eu',
  queues: { mail: { depth: 3, owner: 'ops' }, 'print jobs': { depth: 7 }, 'it\'s "q"\\\n\u0001': { depth: 1, owner: 'x' } },
  items: [
    { id: 'a', open: true, size: 10 },
    { id: 'b', open: false },
    { id: 'c', open: true, size: 30 },
  ],
  twins: [
    { n: 'x', v: 1 },
    { n: 'y', v: 2 },
    { n: 'x', v: 3 },
  ],
};

let target: JsonTarget;
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'json-reach-'));
  target = await startJsonTarget({
    '/queues': () => ({ json: QUEUES }),
    // Over 2 KiB: mapped in a worker thread, whose failures cross back with their reason.
    '/large': () => ({ json: { ...QUEUES, padding: 'p'.repeat(4096) } }),
  });
});
after(() => target.close());

async function serve(name: string, sources: string): Promise<ServingCli> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, `sources:\n${sources}`);
  return serveCli([`--config.file=${file}`]);
}

const source = (name: string, metrics: string, path = '/queues') =>
  `  - kind: http\n    name: ${name}\n    url: ${target.url}${path}\n    metrics:\n${metrics}`;

describe('JSON mapping reach, through the built exporter', () => {
  test("@key labels each element with its member name (or index), { root } with the document's field", async () => {
    const cli = await serve(
      'keys',
      source(
        'keys',
        `      - { name: queue_depth, each: '$.queues.*', path: $.depth, labels: { queue: '@key', region: { root: $.region }, kind: q } }
      - { name: item_open, each: '$.items[*]', path: $.open, labels: { index: '@key', id: $.id } }
`,
      ),
    );
    try {
      const { body, samples } = await scrape(cli.url);
      assert.equal(samples.get('custom_exporter_source_up{source="keys"}'), 1, body);
      assert.deepEqual(family(body, 'queue_depth'), [
        ['queue_depth{queue="mail",region="eu",kind="q"}', 3],
        ['queue_depth{queue="print jobs",region="eu",kind="q"}', 7],
        // A name the library escapes in its locations (RFC 9535 2.7) is the label as the document has it.
        ['queue_depth{queue="it\'s \\"q\\"\\\\\\n\u0001",region="eu",kind="q"}', 1],
      ]);
      assert.deepEqual(family(body, 'item_open'), [
        ['item_open{index="0",id="a"}', 1],
        ['item_open{index="1",id="b"}', 0],
        ['item_open{index="2",id="c"}', 1],
      ]);
    } finally {
      await cli.kill();
    }
  });

  test('optional: a missing path, label or each gives no series and the source stays up; without it the source fails with path', async () => {
    const cli = await serve(
      'optional',
      `${source(
        'optional',
        `      - { name: item_size, each: '$.items[*]', path: $.size, labels: { id: $.id }, optional: true }
      - { name: queue_owner_depth, each: '$.queues.*', path: $.depth, labels: { owner: $.owner }, optional: true }
      - { name: absent, path: $.nothing, optional: true }
      - { name: absent_each, each: '$.nothing[*]', path: $.v, optional: true }
      - { name: present, path: $.queues.mail.depth, optional: true }
      - { name: root_missing, each: '$.items[*]', path: $.open, labels: { r: { root: $.nothing } }, optional: true }
`,
      )}${source('strict', "      - { name: strict_size, each: '$.items[*]', path: $.size, labels: { id: $.id } }\n")}`,
    );
    try {
      const { body, samples } = await scrape(cli.url);
      assert.equal(samples.get('custom_exporter_source_up{source="optional"}'), 1, body);
      assert.deepEqual(family(body, 'item_size'), [
        ['item_size{id="a"}', 10],
        ['item_size{id="c"}', 30],
      ]);
      assert.deepEqual(family(body, 'queue_owner_depth'), [
        ['queue_owner_depth{owner="ops"}', 3],
        ['queue_owner_depth{owner="x"}', 1],
      ]);
      assert.deepEqual(family(body, 'absent'), []);
      assert.deepEqual(family(body, 'absent_each'), []);
      assert.deepEqual(family(body, 'root_missing'), []);
      assert.equal(samples.get('present'), 3);
      assert.equal(samples.get('custom_exporter_source_up{source="strict"}'), 0);
      assert.equal(samples.get('custom_exporter_source_errors_total{source="strict",reason="path"}'), 1);
      const failure = await cli.waitForLog((l) => l.msg === 'source collection failed' && l.source === 'strict');
      assert.equal(failure.err, 'metric strict_size: path $.size matched nothing');
    } finally {
      await cli.kill();
    }
  });

  test('default: the number used where the path is missing; count: how many values a path matches', async () => {
    const cli = await serve(
      'default-count',
      source(
        'dc',
        `      - { name: item_size_or_zero, each: '$.items[*]', path: $.size, labels: { id: $.id }, default: 0 }
      - { name: retries, path: $.retries, default: -1 }
      - { name: open_items, count: '$.items[?@.open == true]' }
      - { name: queues_total_count, count: '$.queues.*' }
      - { name: nothing_count, count: '$.nothing[*]' }
      - { name: owners_per_queue, each: '$.queues.*', count: '$.owner', labels: { queue: '@key' } }
`,
      ),
    );
    try {
      const { body, samples } = await scrape(cli.url);
      assert.equal(samples.get('custom_exporter_source_up{source="dc"}'), 1, body);
      assert.deepEqual(family(body, 'item_size_or_zero'), [
        ['item_size_or_zero{id="a"}', 10],
        ['item_size_or_zero{id="b"}', 0],
        ['item_size_or_zero{id="c"}', 30],
      ]);
      assert.equal(samples.get('retries'), -1);
      assert.equal(samples.get('open_items'), 2);
      assert.equal(samples.get('queues_total_count'), 3);
      assert.equal(samples.get('nothing_count'), 0);
      assert.equal(samples.get('owners_per_queue{queue="print jobs"}'), 0);
      assert.equal(samples.get('owners_per_queue{queue="mail"}'), 1);
    } finally {
      await cli.kill();
    }
  });

  test('two series with the same labels fail the collection with reason duplicate, naming the metric and the labels', async () => {
    const cli = await serve(
      'duplicate',
      `${source('twins', "      - { name: twin_value, each: '$.twins[*]', path: $.v, labels: { n: $.n } }\n")}${source(
        'split',
        `      - { name: split_depth, path: $.queues.mail.depth, labels: { queue: mail } }
      - { name: split_depth, each: '$.queues.*', path: $.depth, labels: { queue: '@key' } }
`,
      )}${source('fine', "      - { name: twin_fine, each: '$.twins[*]', path: $.v, labels: { i: '@key', n: $.n } }\n")}${source(
        'large',
        "      - { name: large_twin, each: '$.twins[*]', path: $.v, labels: { n: $.n } }\n",
        '/large',
      )}${source('large_keys', "      - { name: large_depth, each: '$.queues.*', path: $.depth, labels: { queue: '@key' } }\n", '/large')}`,
    );
    try {
      const { body, samples } = await scrape(cli.url);
      for (const name of ['twins', 'split', 'large']) {
        assert.equal(samples.get(`custom_exporter_source_up{source="${name}"}`), 0, body);
        assert.equal(samples.get(`custom_exporter_source_errors_total{source="${name}",reason="duplicate"}`), 1, name);
      }
      assert.deepEqual(family(body, 'twin_value'), [], 'no series from a failed collection (no last-wins)');
      assert.equal(samples.get('custom_exporter_source_up{source="fine"}'), 1);
      assert.equal(family(body, 'twin_fine').length, 3);
      const twins = await cli.waitForLog((l) => l.msg === 'source collection failed' && l.source === 'twins');
      assert.equal(twins.err, 'metric twin_value: more than one series with the labels {n="x"}');
      assert.equal(twins.reason, 'duplicate');
      const split = await cli.waitForLog((l) => l.msg === 'source collection failed' && l.source === 'split');
      assert.equal(split.err, 'metric split_depth: more than one series with the labels {queue="mail"}');
      const large = await cli.waitForLog((l) => l.msg === 'source collection failed' && l.source === 'large');
      assert.equal(large.err, 'metric large_twin: more than one series with the labels {n="x"}');
      assert.equal(samples.get('large_depth{queue="print jobs"}'), 7, 'the worker gives @key too');
    } finally {
      await cli.kill();
    }
  });
});

describe('JSON mapping reach, checked when the config is loaded', () => {
  const http = (metric: string) => `sources:\n  - kind: http\n    url: http://x/\n    metrics:\n      - ${metric}\n`;

  test('@key needs each; count leaves out path, transform, valueMap and default; a root label is a JSONPath', () => {
    assertConfigRejects(
      http("{ name: a, path: $.v, labels: { q: '@key' } }"),
      'sources.yaml:5:41: sources[0].metrics[0].labels.q: @key is the key of an element of each: give each',
    );
    assertConfigRejects(
      http("{ name: a, count: '$.items[*]', path: $.v }"),
      /^sources\.yaml:5:\d+: sources\[0\]\.metrics\[0\]\.path: count is the value: leave out path, transform, valueMap and default$/,
    );
    assertConfigRejects(
      http("{ name: a, count: '$.items[*]', default: 1 }"),
      /^sources\.yaml:5:\d+: sources\[0\]\.metrics\[0\]\.default: count is the value/,
    );
    assertConfigRejects(
      http("{ name: a, count: '$.items[' }"),
      /^sources\.yaml:5:\d+: sources\[0\]\.metrics\[0\]\.count: invalid JSONPath "\$\.items\[" at character 9/,
    );
    assertConfigRejects(
      http("{ name: a, labels: { r: { root: '$.a..' } } }"),
      /^sources\.yaml:5:\d+: sources\[0\]\.metrics\[0\]\.labels\.r\.root: invalid JSONPath "\$\.a\.\."/,
    );
    assertConfigRejects(
      http('{ name: a, labels: { r: { path: $.a } } }'),
      /^sources\.yaml:5:\d+: sources\[0\]\.metrics\[0\]\.labels\.r: a label is a literal, a JSONPath \(\$…\), @key or \{ root: \$… \}$/,
    );
    assertConfigRejects(http('{ name: a, optional: maybe }'), /^sources\.yaml:5:\d+: sources\[0\]\.metrics\[0\]\.optional: /);
    assertConfigRejects(http("{ name: a, default: 'none' }"), /^sources\.yaml:5:\d+: sources\[0\]\.metrics\[0\]\.default: /);
  });

  test('check-config exits 2 naming the file, line, column and field', async () => {
    const file = join(dir, 'bad-key.yaml');
    await writeFile(file, http("{ name: a, path: $.v, labels: { q: '@key' } }"));
    const run = await runCli(['check-config', file]);
    assert.equal(run.code, 2, run.stderr);
    assert.equal(run.stderr.trim(), `${file}:5:41: sources[0].metrics[0].labels.q: @key is the key of an element of each: give each`);
  });
});
