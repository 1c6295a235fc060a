import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type ServingCli, serveCli } from './support/cli.ts';
import { type ParsedFamily, requireOpenMetricsParser } from './support/openmetrics-parser.ts';
import { decodeFamilies, PROTOBUF_CONTENT_TYPE } from './support/protobuf-exposition.ts';
import { requireTool } from './support/tools.ts';

// The real built exporter under NoUTF8EscapingWithSuffixes with a module source of dotted instrument names and
// attribute keys (fixtures/sources/dotted-names.ts): each format and escaping scheme as Prometheus 3 asks for it.
const DOTTED = new URL('fixtures/sources/dotted-names.ts', import.meta.url).pathname;
let cli: ServingCli;

before(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'utf8-names-'));
  const file = join(dir, 'config.yaml');
  await writeFile(
    file,
    `global:\n  translationStrategy: NoUTF8EscapingWithSuffixes\nsources:\n  - kind: module\n    name: dotted\n    module: ${DOTTED}\n`,
  );
  cli = await serveCli(['--config.file', file]);
});

after(async () => {
  cli.signal('SIGTERM');
  await cli.exited;
});

async function scrape(accept: string): Promise<{ contentType: string | null; body: Buffer }> {
  const response = await fetch(`${cli.url}/metrics`, { headers: { accept } });
  assert.equal(response.status, 200);
  return { contentType: response.headers.get('content-type'), body: Buffer.from(await response.arrayBuffer()) };
}

const text = async (accept: string, contentType: string): Promise<string> => {
  const answer = await scrape(accept);
  assert.equal(answer.contentType, contentType);
  return answer.body.toString();
};

/** The lines of `body` that belong to the fixture's instruments, in order (the exporter's own come around them). */
const fixtureLines = (body: string, marker: RegExp): string[] => body.split('\n').filter((line) => marker.test(line));

test("text 1.0.0 with escaping=allow-utf-8 quotes dotted names and label names; the exporter's own names stay bare", async () => {
  const body = await text(
    'text/plain;version=1.0.0;escaping=allow-utf-8',
    'text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8',
  );
  assert.deepEqual(fixtureLines(body, /http\.server|queue\./), [
    '# HELP "queue.size_bytes" description missing',
    '# UNIT "queue.size_bytes" By',
    '# TYPE "queue.size_bytes" gauge',
    '{"queue.size_bytes","queue.name"="a"} 7',
    '# HELP "http.server.requests_total" description missing',
    '# TYPE "http.server.requests_total" counter',
    '{"http.server.requests_total","http.method"="GET"} 3',
    '# HELP "http.server.duration_seconds" description missing',
    '# UNIT "http.server.duration_seconds" s',
    '# TYPE "http.server.duration_seconds" histogram',
    '{"http.server.duration_seconds_count","http.method"="GET"} 1',
    '{"http.server.duration_seconds_sum","http.method"="GET"} 0.5',
    '{"http.server.duration_seconds_bucket","http.method"="GET",le="1"} 1',
    '{"http.server.duration_seconds_bucket","http.method"="GET",le="+Inf"} 1',
  ]);
  assert.match(body, /^target_info\{"service\.name"="custom-exporter",/m);
  assert.match(body, /^custom_exporter_build_info\{version="[^"]+",node_version="[^"]+"\} 1$/m);
  assert.match(body, /^process_cpu_seconds_total \S+$/m);
});

test('OpenMetrics 1.0.0 with escaping=allow-utf-8: quoted names, _total/_created, # UNIT spelled as the suffix', async () => {
  const body = await text(
    'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8',
    'application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8',
  );
  const created = /\} \d+(\.\d+)?$/;
  assert.deepEqual(
    fixtureLines(body, /http\.server|queue\./).map((line) => (line.includes('_created"') ? line.replace(created, '} <start>') : line)),
    [
      '# TYPE "queue.size_bytes" gauge',
      '# UNIT "queue.size_bytes" bytes',
      '{"queue.size_bytes","queue.name"="a"} 7',
      '# TYPE "http.server.requests" counter',
      '{"http.server.requests_total","http.method"="GET"} 3',
      '{"http.server.requests_created","http.method"="GET"} <start>',
      '# TYPE "http.server.duration_seconds" histogram',
      '# UNIT "http.server.duration_seconds" seconds',
      '{"http.server.duration_seconds_bucket","http.method"="GET",le="1.0"} 1',
      '{"http.server.duration_seconds_bucket","http.method"="GET",le="+Inf"} 1',
      '{"http.server.duration_seconds_count","http.method"="GET"} 1',
      '{"http.server.duration_seconds_sum","http.method"="GET"} 0.5',
      '{"http.server.duration_seconds_created","http.method"="GET"} <start>',
    ],
  );
  assert.match(body, /^custom_exporter_build_info\{version="[^"]+",node_version="[^"]+"\} 1$/m);
  assert.ok(body.endsWith('# EOF\n'));
});

test('dots, values and underscores escape the names for OpenMetrics (strict Python parser) and text (promtool)', async (t) => {
  const parse = requireOpenMetricsParser(t);
  const promtool = requireTool(t, 'promtool', 'apt-get install prometheus');
  if (!parse || !promtool) return;
  // Prometheus' escaping_schemes: dots doubles `_` and spells `.` as `_dot_`; values writes `U__` and each other
  // character as `_<hex>_`; underscores (the default) turns each into `_`.
  const expected = {
    dots: { gauge: 'queue_dot_size__bytes', counter: 'http_dot_server_dot_requests__total', label: 'http_dot_method' },
    values: { gauge: 'U__queue_2e_size__bytes', counter: 'U__http_2e_server_2e_requests__total', label: 'U__http_2e_method' },
    underscores: { gauge: 'queue_size_bytes', counter: 'http_server_requests_total', label: 'http_method' },
  };
  for (const [escaping, names] of Object.entries(expected)) {
    const families: ParsedFamily[] = parse(
      await text(
        `application/openmetrics-text;version=1.0.0;escaping=${escaping}`,
        `application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=${escaping}`,
      ),
    );
    const samples = families.flatMap((f) => f.samples.map((s) => ({ ...s, family: f })));
    const gauge = samples.find((s) => s.name === names.gauge);
    assert.equal(gauge?.value, 7, escaping);
    assert.equal(gauge.family.unit, 'bytes', escaping);
    assert.deepEqual(samples.find((s) => s.name === names.counter)?.labels, { [names.label]: 'GET' }, escaping);
    assert.equal(samples.find((s) => s.name === 'custom_exporter_build_info')?.value, 1, escaping);

    const plain = await text(
      `text/plain;version=1.0.0;escaping=${escaping}`,
      `text/plain; version=1.0.0; charset=utf-8; escaping=${escaping}`,
    );
    assert.match(plain, new RegExp(`^${names.counter}\\{${names.label}="GET"\\} 3$`, 'm'), escaping);
    const lint: SpawnSyncReturns<string> = spawnSync(promtool, ['check', 'metrics'], { input: plain, encoding: 'utf8' });
    assert.equal(lint.status, 0, `${escaping}: promtool: ${lint.stdout}${lint.stderr}`);
  }
  // No Accept: text 0.0.4, whose names are the classic charset only.
  const classic = await text('', 'text/plain; version=0.0.4; charset=utf-8');
  assert.match(classic, /^http_server_duration_seconds_bucket\{http_method="GET",le="1"\} 1$/m);
  const lint = spawnSync(promtool, ['check', 'metrics'], { input: classic, encoding: 'utf8' });
  assert.equal(lint.status, 0, `0.0.4: promtool: ${lint.stdout}${lint.stderr}`);
});

test('protobuf with escaping=allow-utf-8 carries dotted names raw, with the unit of suffixed names', async () => {
  const { contentType, body } = await scrape(`${PROTOBUF_CONTENT_TYPE};escaping=allow-utf-8`);
  assert.equal(contentType, `${PROTOBUF_CONTENT_TYPE}; escaping=allow-utf-8`);
  const families = decodeFamilies(body);
  const byName = new Map(families.map((f) => [f.name, f]));
  const gauge = byName.get('queue.size_bytes');
  assert.equal(gauge?.unit, 'bytes');
  assert.deepEqual(gauge.metric?.[0]?.label, [{ name: 'queue.name', value: 'a' }]);
  assert.deepEqual(gauge.metric?.[0]?.gauge, { value: 7 });
  const counter = byName.get('http.server.requests_total');
  assert.equal(counter?.type, 'COUNTER');
  assert.equal(counter.unit, undefined);
  assert.deepEqual(counter.metric?.[0]?.label, [{ name: 'http.method', value: 'GET' }]);
  assert.equal(counter.metric?.[0]?.counter?.value, 3);
  const histogram = byName.get('http.server.duration_seconds');
  assert.equal(histogram?.unit, 'seconds');
  assert.equal(histogram.metric?.[0]?.histogram?.sampleSum, 0.5);
  assert.deepEqual(byName.get('target_info')?.metric?.[0]?.label?.[0], { name: 'service.name', value: 'custom-exporter' });
  assert.ok(byName.has('process_cpu_seconds_total'), "the exporter's own names stay");

  const escaped = decodeFamilies((await scrape(PROTOBUF_CONTENT_TYPE)).body).map((f) => f.name);
  assert.ok(escaped.includes('http_server_duration_seconds') && !escaped.some((n) => n?.includes('.')), escaped.join(' '));
});
