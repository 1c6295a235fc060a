// GET /metrics?source=a&source=b (issue 13): only the selected sources are collected, on the real built exporter.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { type ServingCli, serveCli } from './support/cli.ts';
import { eventually } from './support/eventually.ts';
import { startPrometheus } from './support/prometheus.ts';
import { decodeFamilies, PROTOBUF_CONTENT_TYPE } from './support/protobuf-exposition.ts';
import { samples } from './support/scrape.ts';
import { shellScript } from './support/shell-script.ts';
import { requireTool } from './support/tools.ts';

const SOURCES = ['cheap', 'medium', 'expensive'] as const;

let dir: string;
let exporter: ServingCli;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'source-selection-'));
  const lines = ['sources:'];
  for (const [i, name] of SOURCES.entries()) {
    // Each run appends a line to its own file (so a test can count runs) and takes 300 ms (so scrapes overlap).
    const script = await shellScript(dir, `${name}.sh`, `echo run >> ${join(dir, `${name}.runs`)}\nsleep 0.3\necho ${i + 1}`);
    lines.push(`  - { kind: command, name: ${name}, command: [${script}], output: number, metrics: [{ name: ${name}_value }] }`);
  }
  // Polled in the background, once an hour: the first poll at startup is the only run.
  const polled = await shellScript(dir, 'polled.sh', `echo run >> ${join(dir, 'polled.runs')}\necho 7`);
  lines.push(
    `  - { kind: command, name: polled, command: [${polled}], output: number, mode: interval, interval: 1h, metrics: [{ name: polled_value }] }`,
  );
  const config = join(dir, 'config.yaml');
  await writeFile(config, `${lines.join('\n')}\n`);
  exporter = await serveCli(['--config.file', config]);
});

after(async () => {
  await exporter?.kill();
  await rm(dir, { recursive: true, force: true });
});

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  /** The body as received, decompressed. */
  readonly raw: Buffer;
}

/** One GET of `/metrics` + `query` on a fresh connection; a gzip body is decompressed. */
function get(query: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${exporter.url}/metrics${query}`, { agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => {
        const received = Buffer.concat(chunks);
        const raw = res.headers['content-encoding'] === 'gzip' ? gunzipSync(received) : received;
        resolve({ status: res.statusCode!, headers: res.headers, body: raw.toString('utf8'), raw });
      });
    });
    req.once('error', reject);
    req.end();
  });
}

async function ok(query: string, headers: Record<string, string> = {}): Promise<Map<string, number>> {
  const answer = await get(query, headers);
  assert.equal(answer.status, 200, `GET /metrics${query}: ${answer.status} ${answer.body.slice(0, 200)}`);
  return samples(answer.body);
}

const runs = async (name: string) => (await readFile(join(dir, `${name}.runs`), 'utf8').catch(() => '')).split('\n').length - 1;

/** The sources whose own values are in the answer, and those that have custom_exporter_source_up series. */
function shown(all: Map<string, number>) {
  const values = SOURCES.filter((s) => all.has(`${s}_value`));
  const up = SOURCES.filter((s) => all.get(`custom_exporter_source_up{source="${s}"}`) === 1);
  return { values, up };
}

describe('GET /metrics?source=', () => {
  test('answers with the selected sources only, their custom_exporter_source_* included, without the exporter self-metrics', async () => {
    const one = await ok('?source=cheap');
    assert.deepEqual(shown(one), { values: ['cheap'], up: ['cheap'] });
    assert.equal(one.get('cheap_value'), 1);
    assert.ok(one.has('custom_exporter_source_duration_seconds{source="cheap"}'));
    assert.ok(
      ![...one.keys()].some((k) => k.startsWith('process_') || k.startsWith('custom_exporter_build_info')),
      [...one.keys()].join('\n'),
    );

    const two = await ok('?source=expensive&source=cheap');
    assert.deepEqual(shown(two), { values: ['cheap', 'expensive'], up: ['cheap', 'expensive'] });

    // Positive control: without a selection, everything, self-metrics included.
    const all = await ok('');
    assert.deepEqual(shown(all), { values: [...SOURCES], up: [...SOURCES] });
    assert.ok([...all.keys()].some((k) => k.startsWith('custom_exporter_build_info')));
    assert.ok([...all.keys()].some((k) => k.startsWith('process_')));
  });

  test('an unselected expensive source does not run; the selected one runs once per scrape, once for a repeated name', async () => {
    const expensiveBefore = await runs('expensive');
    const cheapBefore = await runs('cheap');
    for (let i = 0; i < 3; i++) await ok('?source=cheap&source=medium');
    const repeated = await get('?source=cheap&source=cheap');
    assert.equal(repeated.status, 200);
    assert.equal(repeated.body.match(/^cheap_value /gm)?.length, 1, repeated.body);
    assert.deepEqual(shown(samples(repeated.body)), { values: ['cheap'], up: ['cheap'] });
    assert.equal(await runs('cheap'), cheapBefore + 4, 'the selected source ran at every scrape, once for the repeated name');
    assert.equal(await runs('expensive'), expensiveBefore, 'the unselected source never ran');
    await ok('');
    assert.equal(await runs('expensive'), expensiveBefore + 1, 'a scrape without selection runs it');
  });

  test('unknown names and an empty source= are 400 with a one-line reason; other parameters are ignored', async () => {
    const unknown = await get('?source=cheap&source=nope');
    assert.equal(unknown.status, 400);
    assert.match(unknown.body, /^unknown source "nope".*\n$/);
    assert.equal(unknown.body.split('\n').length, 2, 'one line');
    const empty = await get('?source=');
    assert.equal(empty.status, 400);
    assert.match(empty.body, /^empty source= parameter.*\n$/);
    const alsoEmpty = await get('?source=cheap&source=');
    assert.equal(alsoEmpty.status, 400);
    const other = await ok('?module=x&source=medium&debug=1');
    assert.deepEqual(shown(other), { values: ['medium'], up: ['medium'] });
  });

  test('an interval-mode source is answered from its latest poll, not run by the scrape', async () => {
    // The poll at startup may still be running when the exporter starts serving.
    const answer = await eventually(async () => {
      const polled = await ok('?source=polled');
      assert.equal(polled.get('polled_value'), 7);
      return polled;
    });
    assert.equal(answer.get('custom_exporter_source_up{source="polled"}'), 1);
    assert.deepEqual(shown(answer), { values: [], up: [] });
    await ok('?source=polled');
    assert.equal(await runs('polled'), 1, 'only the poll at startup ran');
  });

  test('every negotiated format and gzip carry the selection', async () => {
    const openmetrics = await get('?source=medium', { Accept: 'application/openmetrics-text;version=1.0.0', 'Accept-Encoding': 'gzip' });
    assert.equal(openmetrics.status, 200);
    assert.equal(openmetrics.headers['content-encoding'], 'gzip');
    assert.match(String(openmetrics.headers['content-type']), /^application\/openmetrics-text/);
    assert.match(openmetrics.body, /^medium_value 2$/m);
    assert.doesNotMatch(openmetrics.body, /cheap|expensive/);
    assert.match(openmetrics.body, /# EOF\n$/);
    const protobuf = await get('?source=medium', { Accept: PROTOBUF_CONTENT_TYPE, 'Accept-Encoding': 'gzip' });
    assert.equal(protobuf.status, 200);
    assert.equal(protobuf.headers['content-encoding'], 'gzip');
    assert.match(String(protobuf.headers['content-type']), /^application\/vnd\.google\.protobuf/);
    const families = decodeFamilies(protobuf.raw);
    assert.deepEqual(
      families.map((f) => f.name).filter((n) => n?.endsWith('_value')),
      ['medium_value'],
    );
    const up = families.find((f) => f.name === 'custom_exporter_source_up');
    assert.deepEqual(
      up?.metric?.map((m) => m.label?.find((l) => l.name === 'source')?.value),
      ['medium'],
    );
    const text = await get('?source=medium', { 'Accept-Encoding': 'gzip' });
    assert.equal(text.headers['content-encoding'], 'gzip');
    assert.deepEqual(shown(samples(text.body)), { values: ['medium'], up: ['medium'] });
  });

  test('concurrent scrapes with different selections each get their own series', async () => {
    const before = await runs('expensive');
    const [a, b, c, all] = await Promise.all([ok('?source=cheap'), ok('?source=expensive'), ok('?source=cheap&source=medium'), ok('')]);
    assert.deepEqual(shown(a), { values: ['cheap'], up: ['cheap'] });
    assert.deepEqual(shown(b), { values: ['expensive'], up: ['expensive'] });
    assert.deepEqual(shown(c), { values: ['cheap', 'medium'], up: ['cheap', 'medium'] });
    assert.deepEqual(shown(all), { values: [...SOURCES], up: [...SOURCES] });
    // The expensive source ran for the two collections that needed it (its own selection and the full one).
    assert.equal(await runs('expensive'), before + 2);
  });
});

test('a real Prometheus with two jobs of different intervals and params.source sees only each job sources', {
  timeout: 90_000,
}, async (t) => {
  const binary = requireTool(t, 'prometheus', 'apt-get install prometheus');
  if (!binary) return;
  const target = new URL(exporter.url).host;
  const prometheus = await startPrometheus(binary, [
    {
      job_name: 'fast',
      scrape_interval: '1s',
      scrape_timeout: '1s',
      params: { source: ['cheap'] },
      static_configs: [{ targets: [target] }],
    },
    {
      job_name: 'slow',
      scrape_interval: '3s',
      scrape_timeout: '2s',
      params: { source: ['medium', 'expensive'] },
      static_configs: [{ targets: [target] }],
    },
  ]);
  try {
    await prometheus.waitFor('up{job="fast"}', (v) => v === 1);
    await prometheus.waitFor('up{job="slow"}', (v) => v === 1);
    await prometheus.waitFor('cheap_value{job="fast"}', (v) => v === 1);
    await prometheus.waitFor('expensive_value{job="slow"}', (v) => v === 3);
    const names = async (job: string) =>
      (await prometheus.query(`count by (__name__) ({job="${job}"})`)).map((r) => r.metric.__name__!).filter((n) => n.endsWith('_value'));
    assert.deepEqual((await names('fast')).sort(), ['cheap_value']);
    assert.deepEqual((await names('slow')).sort(), ['expensive_value', 'medium_value']);
    const up = async (job: string) =>
      (await prometheus.query(`custom_exporter_source_up{job="${job}"}`)).map((r) => r.metric.source!).sort();
    assert.deepEqual(await up('fast'), ['cheap']);
    assert.deepEqual(await up('slow'), ['expensive', 'medium']);
    // The slow job is scraped every 3 s, the fast one every second: more samples of cheap_value over the same window.
    await prometheus.waitFor(
      'sum(count_over_time(cheap_value{job="fast"}[10s])) - sum(count_over_time(medium_value{job="slow"}[10s]))',
      (v) => v >= 3,
    );
  } finally {
    await prometheus.stop();
  }
});
