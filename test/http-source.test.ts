import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfigFile } from '../src/config/load.ts';
import { builtinSources } from '../src/sources/registry.ts';
import { makeTestPki } from './support/certs.ts';
import { runCli } from './support/cli.ts';
import { assertConfigRejects } from './support/config-error.ts';
import { eventually } from './support/eventually.ts';
import { startTestExporter, startTestExporterFromFile } from './support/exporter.ts';
import { type JsonTarget, startJsonTarget } from './support/json-target.ts';
import { freePort } from './support/ports.ts';
import { scrape } from './support/scrape.ts';
import { requireTool } from './support/tools.ts';

const STATS = {
  orders: { open: 5, paid: '12' },
  status: 'UP',
  healthy: true,
  region: 'eu',
  queues: [
    { name: 'mail', depth: 3 },
    { name: 'print', depth: '7' },
  ],
};
const BASIC = `Basic ${Buffer.from('shop:s3cret').toString('base64')}`;

let target: JsonTarget;
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'http-source-'));
  await writeFile(join(dir, 'password'), 's3cret\n');
  target = await startJsonTarget({
    '/stats': (req) => (req.headers.authorization === BASIC ? { json: STATS } : { status: 401, text: 'who are you' }),
    '/bearer': (req) => (req.headers.authorization === 'Bearer t0ken' ? { json: STATS } : { status: 401 }),
    '/query': (req, body) => ({ status: 201, json: { method: req.method, length: body.length } }),
    '/broken': () => ({ status: 500, text: 'oops' }),
    '/invalid': () => ({ text: '{"open": ' }),
    '/many': () => ({ json: Array.from({ length: 20 }, (_, i) => ({ id: `n${i}`, v: i })) }),
    '/hang': () => 'hang',
  });
});
after(() => target.close());

const source = (name: string, path: string, extra = '', metrics = '[{ name: open_orders, path: $.orders.open }]') =>
  `  - kind: http\n    name: ${name}\n    url: ${target.url}${path}\n${extra}    metrics: ${metrics}\n`;

describe('http source', () => {
  test('maps JSON to gauges, counters, labels, arrays and valueMap, with basic auth from a file and bearer from env', async () => {
    const metrics = `
      - { name: shop_open_orders, help: Orders not paid yet, path: $.orders.open, labels: { region: $.region, env: prod } }
      - { name: shop_paid_orders, type: counter, path: $.orders.paid }
      - { name: shop_up, path: $.status, valueMap: { UP: 1, DOWN: 0 } }
      - { name: shop_healthy, path: $.healthy }
      - { name: shop_queue_depth, each: '$.queues[*]', path: $.depth, labels: { queue: $.name } }`;
    const config = `sources:\n${source('shop', '/stats', `    auth: { basic: { username: shop, password: { file: ${join(dir, 'password')} } } }\n`, metrics.replaceAll('\n', '\n    '))}${source('tokened', '/bearer', '    auth: { bearer: { env: SHOP_TOKEN } }\n', '[{ name: tokened_open, path: $.orders.open }]')}`;
    process.env.SHOP_TOKEN = 't0ken';
    const exporter = await startTestExporter(config);
    try {
      const { body, samples: all } = await scrape(exporter.url);
      assert.equal(all.get('shop_open_orders{region="eu",env="prod"}'), 5);
      assert.match(body, /# HELP shop_open_orders Orders not paid yet/);
      assert.equal(all.get('shop_paid_orders_total'), 12);
      assert.match(body, /# TYPE shop_paid_orders_total counter/);
      assert.equal(all.get('shop_up'), 1);
      assert.equal(all.get('shop_healthy'), 1);
      assert.equal(all.get('shop_queue_depth{queue="mail"}'), 3);
      assert.equal(all.get('shop_queue_depth{queue="print"}'), 7);
      assert.equal(all.get('tokened_open'), 5);
      assert.equal(all.get('custom_exporter_http_status_code{source="shop"}'), 200);
      assert.ok(all.get('custom_exporter_http_request_duration_seconds{source="shop"}')! > 0);
      assert.equal(target.last('/stats')?.headers.accept, 'application/json');
    } finally {
      delete process.env.SHOP_TOKEN;
      await exporter.stop();
    }
  });

  test('POST with headers and a body; accepted status codes', async () => {
    const exporter = await startTestExporter(
      `sources:\n${source('q', '/query', '    method: POST\n    headers: { x-tenant: shop }\n    body: \'{"q": "open"}\'\n    acceptStatus: [200, 201]\n', '[{ name: q_length, path: $.length }]')}`,
    );
    try {
      const all = (await scrape(exporter.url)).samples;
      assert.equal(all.get('q_length'), 13);
      assert.equal(target.last('/query')?.method, 'POST');
      assert.equal(target.last('/query')?.headers['x-tenant'], 'shop');
    } finally {
      await exporter.stop();
    }
  });

  test('each failure mode gives source_up 0 with its reason, status 200, and the other sources intact', async () => {
    const closed = await freePort();
    const config = [
      'global: { seriesLimit: 10 }',
      'sources:',
      '  - kind: demo',
      `  - { kind: http, name: refused, url: "http://127.0.0.1:${closed}/x", metrics: [{ name: a, path: $.a }] }`,
      source('unauthorized', '/stats', '', '[{ name: b, path: $.orders.open }]').trimEnd(),
      source('broken', '/broken', '', '[{ name: c, path: $.a }]').trimEnd(),
      source('invalid', '/invalid', '', '[{ name: d, path: $.a }]').trimEnd(),
      source('nopath', '/query', '    method: POST\n    acceptStatus: [201]\n', '[{ name: e, path: $.nothing.here }]').trimEnd(),
      source('notnumber', '/query', '    method: POST\n    acceptStatus: [201]\n', '[{ name: f, path: $.method }]').trimEnd(),
      source('slow', '/hang', '    timeout: 300ms\n', '[{ name: g, path: $.a }]').trimEnd(),
      source('wide', '/many', '', "[{ name: h, each: '$[*]', path: $.v, labels: { id: $.id } }]").trimEnd(),
    ].join('\n');
    const exporter = await startTestExporter(config);
    try {
      const all = (await scrape(exporter.url)).samples;
      assert.equal(exporter.status().find((s) => s.name === 'slow')?.lastError, 'collection timed out after 300 ms');
      assert.ok(all.has('random_number'), 'the demo source is still served');
      assert.equal(all.get('custom_exporter_source_up{source="demo"}'), 1);
      const expected: Record<string, string> = {
        refused: 'connection',
        unauthorized: 'status',
        broken: 'status',
        invalid: 'parse',
        nopath: 'path',
        notnumber: 'value',
        slow: 'timeout',
        wide: 'series_limit',
      };
      for (const [name, reason] of Object.entries(expected)) {
        assert.equal(all.get(`custom_exporter_source_up{source="${name}"}`), 0, name);
        assert.equal(all.get(`custom_exporter_source_errors_total{source="${name}",reason="${reason}"}`), 1, `${name}: ${reason}`);
      }
      assert.equal(all.get('custom_exporter_http_status_code{source="broken"}'), 500);
      assert.equal(all.get('custom_exporter_http_status_code{source="refused"}'), 0);
      assert.equal([...all.keys()].filter((k) => /^[a-h](_total)?(\{|$)/.test(k)).length, 0, 'no series from failed sources');
    } finally {
      await exporter.stop();
    }
  });

  test('minInterval: two concurrent scrapes, and a later one, make one request to the target', async () => {
    const exporter = await startTestExporter(
      `sources:\n${source('shared', '/query', '    method: POST\n    acceptStatus: [201]\n    minInterval: 1m\n', '[{ name: shared_len, path: $.length }]')}`,
    );
    try {
      const before = target.hits('/query');
      const [a, b] = await Promise.all([scrape(exporter.url), scrape(exporter.url)]);
      assert.equal(a.samples.get('shared_len'), 0);
      assert.equal(b.samples.get('shared_len'), 0);
      assert.equal(target.hits('/query') - before, 1);
      await scrape(exporter.url);
      assert.equal(target.hits('/query') - before, 1, 'a scrape within minInterval reuses the result');
    } finally {
      await exporter.stop();
    }
  });

  test('interval mode: the target is called on schedule, not on scrape', async () => {
    const probe = await startJsonTarget({ '/poll': () => ({ json: { v: 1 } }) });
    const exporter = await startTestExporter(
      `sources:\n  - { kind: http, url: "${probe.url}/poll", mode: interval, interval: 400ms, timeout: 300ms, metrics: [{ name: polled, path: $.v }] }`,
    );
    try {
      await eventually(() => assert.ok(probe.hits('/poll') >= 1, 'the first poll'));
      const atStart = probe.hits('/poll');
      for (let i = 0; i < 10; i++) assert.equal((await scrape(exporter.url)).samples.get('polled'), 1);
      assert.ok(probe.hits('/poll') - atStart <= 1, `10 scrapes made ${probe.hits('/poll') - atStart} requests`);
      const beforeWait = probe.hits('/poll');
      await eventually(() => assert.ok(probe.hits('/poll') - beforeWait >= 3, `${probe.hits('/poll') - beforeWait} more polls`));
    } finally {
      await exporter.stop();
      await probe.close();
    }
  });

  test('TLS: a CA file verifies the target; without it the connection fails; insecureSkipVerify skips the check', async (t) => {
    const openssl = requireTool(t, 'openssl', 'apt-get install openssl');
    if (!openssl) return;
    const pki = makeTestPki(openssl);
    const secure = await startJsonTarget(
      { '/s': () => ({ json: { v: 42 } }) },
      { cert: await readFile(pki.serverCert, 'utf8'), key: await readFile(pki.serverKey, 'utf8') },
    );
    const exporter = await startTestExporter(
      [
        'sources:',
        `  - { kind: http, name: trusted, url: "${secure.url}/s", tls: { caFile: ${pki.caCert} }, metrics: [{ name: trusted_v, path: $.v }] }`,
        `  - { kind: http, name: untrusted, url: "${secure.url}/s", metrics: [{ name: untrusted_v, path: $.v }] }`,
        `  - { kind: http, name: skipped, url: "${secure.url}/s", tls: { insecureSkipVerify: true }, metrics: [{ name: skipped_v, path: $.v }] }`,
      ].join('\n'),
    );
    try {
      const all = (await scrape(exporter.url)).samples;
      assert.equal(all.get('trusted_v'), 42);
      assert.equal(all.get('skipped_v'), 42);
      assert.equal(all.get('custom_exporter_source_errors_total{source="untrusted",reason="connection"}'), 1);
    } finally {
      await exporter.stop();
      await secure.close();
    }
  });

  test("reload: a source's new URL is used, and the other source's counter keeps counting", async () => {
    const old = await startJsonTarget({ '/v': () => ({ json: { v: 1 } }) });
    const next = await startJsonTarget({ '/v': () => ({ json: { v: 2 } }) });
    const file = join(dir, 'reload.yaml');
    const write = (url: string) =>
      writeFile(
        file,
        `sources:\n  - { kind: count, name: steady }\n  - { kind: http, name: api, url: "${url}/v", metrics: [{ name: api_v, path: $.v }] }\n`,
      );
    await write(old.url);
    const exporter = await startTestExporterFromFile(file);
    try {
      assert.equal((await scrape(exporter.url)).samples.get('api_v'), 1);
      assert.equal((await scrape(exporter.url)).samples.get('calls_seen'), 2);
      await write(next.url);
      assert.equal(await exporter.reload(), true);
      const all = (await scrape(exporter.url)).samples;
      assert.equal(all.get('api_v'), 2);
      assert.equal(all.get('calls_seen'), 3, 'the unchanged source was not restarted');
      assert.equal(old.hits('/v'), 2);
    } finally {
      await exporter.stop();
      await old.close();
      await next.close();
    }
  });
});

describe('http source config', () => {
  test('a bad JSONPath names file, line, field and where the syntax breaks', () => {
    assertConfigRejects(
      'sources:\n  - kind: http\n    url: http://x/\n    metrics:\n      - name: a\n        path: $.queues[\n',
      /^sources\.yaml:6:9: sources\[0\]\.metrics\[0\]\.path: invalid JSONPath "\$\.queues\[" at character 10: Expected/,
    );
    assertConfigRejects(
      "sources:\n  - kind: http\n    url: http://x/\n    metrics: [{ name: a, labels: { q: '$.a..' } }]\n",
      /^sources\.yaml:4:\d+: sources\[0\]\.metrics\[0\]\.labels\.q: invalid JSONPath/,
    );
    assertConfigRejects(
      "sources:\n  - kind: http\n    url: http://x/\n    metrics: [{ name: a, each: 'queues' }]\n",
      /^sources\.yaml:4:\d+: sources\[0\]\.metrics\[0\]\.each: invalid JSONPath "queues" at character 1: Expected "\$"/,
    );
  });

  test('missing fields, a bad URL, conflicting types and two auth methods are errors with positions', () => {
    assertConfigRejects(
      'sources:\n  - kind: http\n    metrics: [{ name: a }]\n',
      'sources.yaml:2:5: sources[0].url: required field is missing',
    );
    assertConfigRejects(
      'sources:\n  - kind: http\n    url: ftp://x/\n    metrics: [{ name: a }]\n',
      'sources.yaml:3:5: sources[0].url: must be an http:// or https:// URL',
    );
    assertConfigRejects(
      'sources:\n  - kind: http\n    url: http://x/\n    metrics:\n      - { name: a }\n      - { name: a, type: counter }\n',
      'sources.yaml:6:20: sources[0].metrics[1].type: "a" is already a gauge (metrics[0])',
    );
    assertConfigRejects(
      'sources:\n  - kind: http\n    url: http://x/\n    auth:\n      basic: { username: u, password: { value: p } }\n      bearer: { value: t }\n    metrics: [{ name: a }]\n',
      'sources.yaml:4:5: sources[0].auth: give exactly one of basic, bearer or oauth2',
    );
    assertConfigRejects(
      'sources:\n  - kind: http\n    url: http://x/\n    auth: { bearer: { value: a, env: PATH } }\n    metrics: [{ name: a }]\n',
      'sources.yaml:4:13: sources[0].auth.bearer: give exactly one of value, file or env',
    );
  });

  test('check-config rejects a bad JSONPath with exit 2, naming file, line and field', async () => {
    const file = join(dir, 'bad-path.yaml');
    await writeFile(file, 'sources:\n  - kind: file\n    path: report.json\n    metrics:\n      - { name: rows, path: "$.rows[?" }\n');
    const run = await runCli(['check-config', file]);
    assert.equal(run.code, 2);
    assert.match(
      run.stderr,
      new RegExp(`^${file}:5:23: sources\\[0\\]\\.metrics\\[0\\]\\.path: invalid JSONPath "\\$\\.rows\\[\\?" at character 9: Expected`),
    );
  });

  test('secret files are resolved relative to the config file', async () => {
    const file = join(dir, 'relative.yaml');
    await writeFile(
      file,
      'sources:\n  - kind: http\n    url: http://x/\n    auth: { bearer: { file: password } }\n    metrics: [{ name: a }]\n',
    );
    const config = await loadConfigFile(file, builtinSources);
    assert.deepEqual((config.sources[0]!.options.auth as { bearer: unknown }).bearer, { file: join(dir, 'password') });
  });
});
