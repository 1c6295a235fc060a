import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { parseConfig } from '../src/config/load.ts';
import { builtinSources } from '../src/sources/registry.ts';
import { type ServingCli, serveCli } from './support/cli.ts';
import { assertConfigRejects, bothReject } from './support/config-error.ts';
import { startTestExporterFromFile } from './support/exporter.ts';
import { type JsonTarget, startJsonTarget } from './support/json-target.ts';
import { samples } from './support/scrape.ts';
import { requireTool } from './support/tools.ts';

const GREETING = new URL('fixtures/sources/greeting-probe.ts', import.meta.url).pathname;

async function configFile(yaml: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'probe-'));
  const file = join(dir, 'probe.yaml');
  await writeFile(file, yaml);
  return file;
}

async function probe(exporter: ServingCli, query: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${exporter.url}/probe?${query}`, { headers, signal: AbortSignal.timeout(30_000) });
  const body = await res.text();
  return { status: res.status, headers: res.headers, body, samples: samples(body) };
}

describe('modules in the config', () => {
  const http = (extra: string) =>
    `sources: [{ kind: demo }]\nmodules:\n  - name: web\n    kind: http\n    url: http://target.invalid/\n    output: prometheus\n${extra}`;

  test('take target: url only when they are http modules', () => {
    assertConfigRejects(
      'sources: [{ kind: demo }]\nmodules:\n  - { name: c, kind: command, command: [echo, "{{target}}"], output: prometheus, probe: { target: url }, allow: { allowAny: true } }\n',
      /^sources\.yaml:3:\d+: modules\[0\]\.probe\.target: target: url applies to http modules only$/,
    );
  });

  test('cannot take module or target as extra parameters', () => {
    assertConfigRejects(
      http('    probe: { params: [region, target] }\n    allow: { allowAny: true }\n'),
      /^sources\.yaml:7:31: modules\[0\]\.probe\.params\[1\]: module and target are \/probe parameters of their own$/,
    );
  });

  test('global.maxConcurrentProbes is a positive whole number', () => {
    assertConfigRejects(
      'global: { maxConcurrentProbes: 0 }\nsources: [{ kind: demo }]\n',
      'sources.yaml:1:11: global.maxConcurrentProbes: must be at least 1',
    );
  });

  test('have unique names', () => {
    assertConfigRejects(
      `${http('    allow: { allowAny: true }\n')}  - { name: web, kind: http, url: 'http://x.invalid/', output: prometheus, allow: { allowAny: true } }\n`,
      /^sources\.yaml:\d+:\d+: modules\[1\]\.name: duplicate module name "web"/,
    );
  });

  test('run once per probe: mode: interval is refused', () => {
    assertConfigRejects(
      http('    mode: interval\n    interval: 10s\n    allow: { allowAny: true }\n'),
      /^sources\.yaml:\d+:\d+: modules\[0\]\.mode: a module runs once per probe: only mode: scrape applies$/,
    );
  });

  test('are http, command, sql or module sources: a target has no place in a file path', () => {
    assertConfigRejects(
      'sources: [{ kind: demo }]\nmodules:\n  - { name: f, kind: file, path: /etc/hostname, output: prometheus, allow: { allowAny: true } }\n',
      /^sources\.yaml:3:\d+: modules\[0\]\.kind: a module is one of: http, command, sql, module \(a target has no place in a file source\)$/,
    );
  });

  test("the README's example is a valid config", async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Probing many targets'));
    const example = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
    const dir = await mkdtemp(join(tmpdir(), 'probe-readme-'));
    await writeFile(join(dir, 'check-host.sh'), '#!/bin/sh\n', { mode: 0o755 });
    await writeFile(join(dir, 'pg-password'), 'x\n', { mode: 0o600 });
    const config = parseConfig(example, join(dir, 'exporter.yaml'), builtinSources);
    assert.deepEqual(
      config.modules.map((m) => [m.source.name, m.probe.target, m.probe.params]),
      [
        ['app_status', 'host', []],
        ['page', 'url', []],
        ['orders_db', 'host', []],
        ['ping', 'host', ['region']],
      ],
    );
  });

  test('are checked by check-config and at start with file:line:col, exit 2', async () => {
    const file = await configFile(http('    allow: { allowAny: yes please }\n'));
    await bothReject(file, /probe\.yaml:7:14: modules\[0\]\.allow\.allowAny: Invalid input: expected boolean, received string$/m);
  });
});

describe('GET /probe', () => {
  let exporter: ServingCli;
  let up: JsonTarget;
  let hanging: JsonTarget;
  let downPort: number;

  const seen: string[] = [];
  before(async () => {
    up = await startJsonTarget({
      '/status': (req) => {
        seen.push(req.url!);
        return { json: { up: 1, region: 'eu' } };
      },
    });
    hanging = await startJsonTarget({ '/status': () => 'hang' });
    // A port that was just listened on and closed: nothing answers there.
    const gone = await startJsonTarget({});
    downPort = Number(new URL(gone.url).port);
    await gone.close();
    const file = await configFile(`
global: { maxConcurrentProbes: 2 }
sources: [{ kind: demo }]
modules:
  - name: web
    kind: http
    url: http://target.invalid/status
    timeout: 20s
    metrics: [{ name: app_up, path: $.up }]
    allow: { cidrs: [127.0.0.1/32] }
  - name: regional
    kind: http
    url: http://target.invalid/status?region={{params.region}}
    probe: { params: [region] }
    metrics: [{ name: app_up, path: $.up }]
    allow: { cidrs: [127.0.0.1/32] }
  - name: closed
    kind: http
    url: http://target.invalid/
    output: prometheus
  - name: page
    kind: http
    url: http://target.invalid/
    probe: { target: url }
    metrics: [{ name: app_up, path: $.up }]
    allow: { allowAny: true }
  - name: args
    kind: command
    command: [printf, '{"one": 1, "arg": "%s", "region": "%s"}', '{{target}}', '{{params.region}}']
    probe: { params: [region] }
    metrics: [{ name: probe_arg, path: $.one, labels: { arg: $.arg, region: $.region } }]
    allow: { allowAny: true }
  - name: greet
    kind: module
    module: ${GREETING}
    probe: { params: [lang] }
    allow: { allowAny: true }
`);
    exporter = await serveCli([`--config.file=${file}`, '--web.listen-address=127.0.0.1:0']);
  });

  after(async () => {
    await exporter?.kill();
    await up?.close();
    await hanging?.close();
  });

  test('http module, target: host: the target replaces host:port of the url; a down target is probe_success 0', async () => {
    const good = await probe(exporter, `module=web&target=${new URL(up.url).host}`);
    assert.equal(good.status, 200, good.body);
    assert.equal(good.samples.get('app_up'), 1);
    assert.equal(good.samples.get('probe_success'), 1);
    assert.ok(good.samples.get('probe_duration_seconds')! > 0);
    assert.equal(up.hits('/status'), 1);
    const down = await probe(exporter, `module=web&target=127.0.0.1:${downPort}`);
    assert.equal(down.status, 200, down.body);
    assert.equal(down.samples.get('probe_success'), 0);
    assert.equal(down.samples.has('app_up'), false);
  });

  test('http module: an allowed parameter is written into the url, encoded', async () => {
    const answer = await probe(
      exporter,
      `module=regional&target=${new URL(up.url).host}&region=${encodeURIComponent('eu west&admin=1/..')}`,
    );
    assert.equal(answer.samples.get('probe_success'), 1, answer.body);
    assert.equal(seen.at(-1), '/status?region=eu%20west%26admin%3D1%2F..');
  });

  test('http module, target: url: the target is the whole URL', async () => {
    const good = await probe(exporter, `module=page&target=${encodeURIComponent(`${up.url}/status`)}`);
    assert.equal(good.samples.get('probe_success'), 1, good.body);
    assert.equal(good.samples.get('app_up'), 1);
    const bad = await probe(exporter, `module=page&target=${encodeURIComponent('file:///etc/passwd')}`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body, 'target must be an http:// or https:// URL for this module\n');
  });

  test('command module: the target and allowed params are single arguments, never seen by a shell', async () => {
    // No whitespace: the allowlist refuses that in any target.
    const target = 'a.example;touch$IFS$(id)`id`';
    const answer = await probe(exporter, `module=args&target=${encodeURIComponent(target)}&region=eu&other=zz`);
    assert.equal(answer.status, 200, answer.body);
    assert.equal(answer.samples.get(`probe_arg{arg="${target}",region="eu"}`), 1, answer.body);
    assert.equal(answer.samples.get('probe_success'), 1);
    const missing = await probe(exporter, `module=args&target=a&other=zz`);
    assert.equal(missing.status, 400);
    assert.equal(missing.body, 'query parameter region is required by this module (or not in its probe.params)\n');
  });

  test('module source: its probe(target, params) hook makes the options; a throw is a 400', async () => {
    const answer = await probe(exporter, 'module=greet&target=world&lang=fr');
    assert.equal(answer.samples.get('greeting{whom="world",lang="fr"}'), 1, answer.body);
    assert.equal(answer.samples.get('probe_success'), 1);
    const refused = await probe(exporter, 'module=greet&target=refuse-me');
    assert.equal(refused.status, 400);
    assert.equal(refused.body, 'this module does not greet refuse-me\n');
  });

  test('answers 400 with a one-line reason for a missing or unknown module or target', async () => {
    for (const [query, reason] of [
      ['target=x', 'missing query parameter module'],
      ['module=web', 'missing query parameter target'],
      ['module=nope&target=x', 'unknown module "nope"'],
      ['module=web&target=x&target=y', 'query parameter target given more than once'],
      ['module=web&target=127.0.0.1%2Fadmin', 'target must be a host, host:port or IP for this module'],
    ]) {
      const answer = await probe(exporter, query!);
      assert.equal(answer.status, 400, query);
      assert.equal(answer.body, `${reason}\n`);
    }
  });

  test('answers 403 for every target of a module without allow: nothing is allowed unless listed', async () => {
    const answer = await probe(exporter, 'module=closed&target=127.0.0.1');
    assert.equal(answer.status, 403);
    assert.match(answer.body, /^target refused by module closed: .+\n$/);
  });

  test('answers 403 when the allowlist refuses the target, without contacting it', async () => {
    const before = up.hits('/status');
    const answer = await probe(exporter, `module=web&target=localhost:${new URL(up.url).port}`);
    assert.equal(answer.status, 403);
    assert.match(answer.body, /^target refused by module web: .+\n$/);
    assert.equal(up.hits('/status'), before);
  });

  test('answers what promtool check metrics finds nothing to lint in', async (t) => {
    const promtool = requireTool(t, 'promtool', 'apt-get install prometheus');
    if (!promtool) return;
    for (const query of [`module=web&target=${new URL(up.url).host}`, `module=web&target=127.0.0.1:${downPort}`]) {
      const answer = await probe(exporter, query);
      assert.match(answer.body, /^probe_success [01]$/m);
      const lint: SpawnSyncReturns<string> = spawnSync(promtool, ['check', 'metrics'], { input: answer.body, encoding: 'utf8' });
      assert.equal(lint.status, 0, `promtool: ${lint.stdout}${lint.stderr}`);
    }
  });

  test('answers in the negotiated format', async () => {
    const answer = await probe(exporter, 'module=greet&target=om', { Accept: 'application/openmetrics-text;version=1.0.0' });
    assert.match(answer.headers.get('content-type')!, /^application\/openmetrics-text; version=1\.0\.0/);
    assert.match(answer.body, /^probe_success 1$/m);
    assert.match(answer.body, /# EOF\n$/);
  });

  test('is bounded by X-Prometheus-Scrape-Timeout-Seconds: a hanging target is probe_success 0 in time', async () => {
    const started = performance.now();
    const answer = await probe(exporter, `module=web&target=${new URL(hanging.url).host}`, {
      'X-Prometheus-Scrape-Timeout-Seconds': '1.5',
    });
    const ms = performance.now() - started;
    assert.equal(answer.status, 200, answer.body);
    assert.equal(answer.samples.get('probe_success'), 0);
    // The scraper gives up after its 1.5 s; the answer must come before (budget 1.5 s - 0.5 s offset).
    assert.ok(ms < 1500, `answered after ${ms} ms`);
    assert.ok(ms >= 900, `answered after ${ms} ms: the budget was not used`);
  });

  test('refuses probes beyond global.maxConcurrentProbes with 503 and Retry-After', async () => {
    const slow = { 'X-Prometheus-Scrape-Timeout-Seconds': '4' };
    const host = new URL(hanging.url).host;
    const inFlight = [probe(exporter, `module=web&target=${host}`, slow), probe(exporter, `module=web&target=${host}`, slow)];
    // Both slots are taken once the hanging target has seen both requests.
    const deadline = performance.now() + 3000;
    while (hanging.hits('/status') < 3 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const refused = await probe(exporter, 'module=greet&target=x');
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal(refused.body, 'too many probes in flight (global.maxConcurrentProbes: 2)\n');
    for (const answer of await Promise.all(inFlight)) assert.equal(answer.samples.get('probe_success'), 0);
    const later = await probe(exporter, 'module=greet&target=x');
    assert.equal(later.status, 200);
  });

  test('leaves /metrics alone: no module series there, only the probe counts', async () => {
    const res = await fetch(`${exporter.url}/metrics`);
    const body = await res.text();
    assert.doesNotMatch(body, /^(probe_success|probe_duration_seconds|app_up|greeting|probe_arg)[ {]/m);
    assert.doesNotMatch(body, /source="(web|page|args|greet)"/);
    assert.ok(samples(body).get('custom_exporter_probes_total{module="web",result="success"}')! >= 1, body);
    assert.ok(samples(body).get('custom_exporter_probes_total{module="web",result="failure"}')! >= 1, body);
    // Those failed probes (a down and a hanging target) are answers, not warnings in the exporter's log.
    assert.doesNotMatch(exporter.stderr(), /collection failed|probe failed/);
    assert.match(exporter.stderr(), /"msg":"listening"/);
  });
});

test("the web config's basic auth applies to /probe as to /metrics", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'probe-auth-'));
  const web = join(dir, 'web.yaml');
  await writeFile(web, `basic_auth_users:\n  prometheus: ${bcrypt.hashSync('s3cret', 4)}\n`);
  const config = await configFile(
    `sources: [{ kind: demo }]\nmodules:\n  - { name: greet, kind: module, module: ${GREETING}, allow: { allowAny: true } }\n`,
  );
  const exporter = await serveCli([`--config.file=${config}`, `--web.config.file=${web}`, '--web.listen-address=127.0.0.1:0']);
  t.after(() => exporter.kill());
  const anonymous = await probe(exporter, 'module=greet&target=x');
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.samples.has('probe_success'), false);
  const authorization = `Basic ${Buffer.from('prometheus:s3cret').toString('base64')}`;
  const allowed = await probe(exporter, 'module=greet&target=x', { authorization });
  assert.equal(allowed.status, 200);
  assert.equal(allowed.samples.get('probe_success'), 1);
});

test('a reload adds, changes and removes modules (the prober is loaded when the first module appears)', async (t) => {
  const file = await configFile('sources: [{ kind: demo }]\n');
  const exporter = await startTestExporterFromFile(file);
  t.after(() => exporter.stop());
  const get = async (query: string) => {
    const res = await fetch(`${exporter.url}/probe?${query}`);
    return { status: res.status, body: await res.text() };
  };
  assert.deepEqual(await get('module=greet&target=x'), { status: 400, body: 'unknown module "greet"\n' });
  await writeFile(
    file,
    `sources: [{ kind: demo }]\nmodules:\n  - { name: greet, kind: module, module: ${GREETING}, allow: { allowAny: true } }\n`,
  );
  assert.equal(await exporter.reload(), true);
  const added = await get('module=greet&target=x');
  assert.equal(added.status, 200);
  assert.equal(samples(added.body).get('greeting{whom="x",lang="en"}'), 1);
  await writeFile(
    file,
    `sources: [{ kind: demo }]\nmodules:\n  - { name: greet, kind: module, module: ${GREETING}, allow: { hosts: [y] } }\n`,
  );
  assert.equal(await exporter.reload(), true);
  assert.equal((await get('module=greet&target=x')).status, 403);
  await writeFile(file, 'sources: [{ kind: demo }]\n');
  assert.equal(await exporter.reload(), true);
  assert.deepEqual(await get('module=greet&target=y'), { status: 400, body: 'unknown module "greet"\n' });
});
