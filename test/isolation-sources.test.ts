// Issue 11: hostile input to the http, command and file sources must not starve /healthz, other sources or
// shutdown, and must stay within its memory. Every case runs the real built exporter (dist/main.js) as a child.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { runCli, type ServingCli, serveCli } from './support/cli.ts';
import { eventually } from './support/eventually.ts';
import { alive } from './support/process-alive.ts';
import { scrape } from './support/scrape.ts';
import { shellScript } from './support/shell-script.ts';
import { requireTool } from './support/tools.ts';

// The kubelet's default probe timeout.
const PROBE_TIMEOUT_MS = 1000;
const RSS_LIMIT_KB = 256 * 1024;

let dir: string;
let target: Server;
let targetUrl: string;

// Hostile and healthy answers, built once.
const million = `{"items":[${Array.from({ length: 1_000_000 }, (_, i) => i).join(',')}]}`;
const millionZeros = `{"items":[${'0,'.repeat(1_000_000 - 1)}0]}`;
const distinct = `{"items":[${Array.from({ length: 100_000 }, (_, i) => i).join(',')}]}`;
const slow = JSON.stringify(Array.from({ length: 70_000 }, (_, i) => ({ v: i })));
const zeros = `[${'0,'.repeat(8_000_000 - 1)}0]`;
const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, ' '), { level: 9 });

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'isolation-'));
  target = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    const json = (body: string) => res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    if (url.pathname === '/ok') return json('{"v": 7}');
    if (url.pathname === '/million') return json(million);
    if (url.pathname === '/million-zeros') return json(millionZeros);
    if (url.pathname === '/distinct') return json(distinct);
    if (url.pathname === '/slow') return json(slow);
    if (url.pathname === '/zeros') return json(zeros);
    if (url.pathname === '/deep') return json(deep);
    if (url.pathname === '/prototype') return json(`{"s": "${url.searchParams.get('s')}"}`);
    if (url.pathname === '/silent') return; // never answers
    if (url.pathname === '/endless') {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, ' ');
      const write = () => {
        while (res.write(chunk));
      };
      res.on('drain', write);
      write();
      return;
    }
    if (url.pathname.startsWith('/redirect/')) {
      const left = Number(url.pathname.slice('/redirect/'.length));
      if (left === 0) return json('{"v": 3}');
      return res.writeHead(302, { location: `/redirect/${left - 1}` }).end();
    }
    if (url.pathname === '/gzip') {
      return res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gzipSync('{"v": 5}'));
    }
    if (url.pathname === '/bomb') {
      return res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(bomb);
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
});
after(async () => {
  target.closeAllConnections();
  await new Promise((resolve) => target.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

let configs = 0;
async function startExporter(yaml: string): Promise<ServingCli> {
  const file = join(dir, `config-${++configs}.yaml`);
  await writeFile(file, yaml);
  return serveCli([`--config.file=${file}`]);
}

/** Probes /healthz every 100 ms until stopped; the slowest answer (a probe that failed counts as Infinity). */
function probeHealth(cli: ServingCli): { stop: () => Promise<number> } {
  let slowest = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const res = await fetch(`${cli.url}/healthz`, { signal: AbortSignal.timeout(5000) });
        await res.arrayBuffer();
        slowest = Math.max(slowest, res.ok ? performance.now() - started : Number.POSITIVE_INFINITY);
      } catch {
        slowest = Number.POSITIVE_INFINITY;
      }
      await sleep(100);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return slowest;
    },
  };
}

async function peakRssKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]);
}

async function waitGone(pid: number, what: string): Promise<void> {
  await eventually(async () => assert.ok(!(await alive(pid)), `${what} (pid ${pid}) is still running`), {
    timeoutMs: 5000,
    intervalMs: 50,
  });
}

async function waitForFile(file: string): Promise<string> {
  return eventually(async () => {
    const text = (await readFile(file, 'utf8').catch(() => '')).trim();
    assert.notEqual(text, '', `${file} was never written`);
    return text;
  });
}

/** A gzip scrape through node:http (fetch would hide the encoding), bounded by `timeoutMs`. */
function gzipScrape(cli: ServingCli, timeoutMs: number): Promise<{ status: number; encoding: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${cli.url}/metrics`, { headers: { 'accept-encoding': 'gzip' }, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, encoding: res.headers['content-encoding'] }));
    });
    req.on('timeout', () => req.destroy(new Error(`no gzip answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

const up = (all: Map<string, number>, source: string) => all.get(`custom_exporter_source_up{source="${source}"}`);
const errors = (all: Map<string, number>, source: string, reason: string) =>
  all.get(`custom_exporter_source_errors_total{source="${source}",reason="${reason}"}`);

describe('file sources', () => {
  test('a FIFO without a writer, /dev/zero and a huge sparse file are refused; the healthy file, /healthz, gzip and SIGTERM are unaffected', async (t) => {
    const mkfifo = requireTool(t, 'mkfifo', 'apt-get install coreutils');
    if (!mkfifo) return;
    const fifo = join(dir, 'no-writer.fifo');
    execFileSync(mkfifo, [fifo]);
    const sparse = join(dir, 'sparse.json');
    await writeFile(sparse, '');
    await truncate(sparse, 400 * 1024 * 1024);
    const healthy = join(dir, 'healthy.json');
    await writeFile(healthy, '{"v": 11}');
    const cli = await startExporter(
      [
        'global: { scrapeTimeout: 3s }',
        'sources:',
        `  - { kind: file, name: fifo, path: ${fifo}, timeout: 500ms, metrics: [{ name: fifo_v }] }`,
        `  - { kind: file, name: zero, path: /dev/zero, timeout: 2s, metrics: [{ name: zero_v }] }`,
        `  - { kind: file, name: sparse, path: ${sparse}, timeout: 2s, metrics: [{ name: sparse_v }] }`,
        `  - { kind: file, name: healthy, path: ${healthy}, metrics: [{ name: healthy_v, path: $.v }] }`,
      ].join('\n'),
    );
    const health = probeHealth(cli);
    try {
      // More scrapes than libuv has threads (4): each would leave one blocked open() behind.
      for (let i = 0; i < 6; i++) {
        const { samples: all } = await scrape(cli.url, { timeoutMs: 5000 });
        assert.equal(up(all, 'healthy'), 1, `scrape ${i}: the healthy file source is up`);
        assert.equal(all.get('healthy_v'), 11);
        assert.equal(up(all, 'fifo'), 0);
        assert.equal(errors(all, 'fifo', 'error'), i + 1, 'the FIFO is refused at once (not a timeout)');
        assert.equal(errors(all, 'zero', 'error'), i + 1, '/dev/zero is refused (not a regular file)');
        assert.equal(errors(all, 'sparse', 'too_large'), i + 1, 'the 400 MiB file is over maxFileSize');
      }
      assert.deepEqual(await gzipScrape(cli, 5000), { status: 200, encoding: 'gzip' });
      assert.ok(
        cli.logs().some((l) => typeof l.err === 'string' && l.err.includes('not a regular file') && l.err.includes(fifo)),
        'the log names the FIFO and why it is refused',
      );
      const slowest = await health.stop();
      assert.ok(slowest < PROBE_TIMEOUT_MS, `/healthz answered within ${PROBE_TIMEOUT_MS} ms (slowest: ${slowest} ms)`);
      const peak = await peakRssKb(cli.pid);
      console.log(`file sources: peak RSS ${Math.round(peak / 1024)} MiB`);
      assert.ok(peak < RSS_LIMIT_KB, `peak RSS ${peak} kB`);
      const stopped = performance.now();
      cli.signal('SIGTERM');
      assert.equal(await cli.exited, 0);
      assert.ok(performance.now() - stopped < 5000, 'SIGTERM exits promptly');
    } finally {
      await health.stop();
      cli.signal('SIGKILL');
    }
  });

  test('overlapping collections of a healthy file take turns instead of failing', async () => {
    const file = join(dir, 'shared.json');
    await writeFile(file, JSON.stringify({ v: 4, pad: 'x'.repeat(1024 * 1024) }));
    const cli = await startExporter(`sources:\n  - { kind: file, name: shared, path: ${file}, metrics: [{ name: shared_v, path: $.v }] }`);
    try {
      // Different budgets: the second scrape cannot join the first one's collection and starts its own.
      const scrapes = ['5', '9'].map(
        async (seconds) => (await scrape(cli.url, { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': seconds } })).samples,
      );
      for (const all of await Promise.all(scrapes)) {
        assert.equal(up(all, 'shared'), 1);
        assert.equal(all.get('shared_v'), 4);
      }
    } finally {
      cli.signal('SIGKILL');
    }
  });

  test('maxFileSize, maxBodySize and maxOutputSize are validated by check-config', async () => {
    const file = join(dir, 'bad-size.yaml');
    await writeFile(
      file,
      [
        'sources:',
        '  - kind: file',
        '    path: x.json',
        '    maxFileSize: 12 parsecs',
        '    metrics: [{ name: a }]',
        '  - { kind: http, url: http://x/, maxBodySize: 9MiB, metrics: [{ name: b }] }',
        '  - { kind: command, command: [x], maxOutputSize: 0, metrics: [{ name: c }] }',
        '',
      ].join('\n'),
    );
    const run = await runCli(['check-config', file]);
    assert.equal(run.code, 2);
    const expected = (size: string) => `invalid size ${size} (expected a size from 1B to 8MiB, such as 512KiB or 4MiB)`;
    assert.deepEqual(run.stderr.trim().split('\n'), [
      `${file}:4:5: sources[0].maxFileSize: ${expected('"12 parsecs"')}`,
      `${file}:6:35: sources[1].maxBodySize: ${expected('"9MiB"')}`,
      `${file}:7:36: sources[2].maxOutputSize: ${expected('0')}`,
    ]);
  });
});

describe('JSON mapping', () => {
  test('a million elements, 8 M zeros and a 100,000-deep array fail at once; /healthz, a healthy source and RSS hold', async () => {
    const each = (name: string, path: string, extra = '') =>
      [
        `  - kind: http`,
        `    name: ${name}`,
        `    url: ${targetUrl}${path}`,
        `    timeout: 3s`,
        ...(extra ? [`    ${extra}`] : []),
        `    metrics: [{ name: ${name}_item, each: '$.items[*]', path: $, labels: { n: $ } }]`,
      ].join('\n');
    const cli = await startExporter(
      [
        'global: { scrapeTimeout: 8s, seriesLimit: 1000 }',
        'sources:',
        each('million', '/million'),
        each('million_zeros', '/million-zeros', 'maxBodySize: 8MiB'),
        each('distinct', '/distinct'),
        `  - { kind: http, name: zeros, url: ${targetUrl}/zeros, timeout: 3s, metrics: [{ name: zero, each: '$[*]', path: $ }] }`,
        `  - { kind: http, name: deep, url: ${targetUrl}/deep, timeout: 3s, metrics: [{ name: deep }] }`,
        `  - { kind: http, name: healthy, url: ${targetUrl}/ok, metrics: [{ name: healthy_v, path: $.v }] }`,
      ].join('\n'),
    );
    const health = probeHealth(cli);
    try {
      for (let i = 1; i <= 3; i++) {
        const started = performance.now();
        const { samples: all } = await scrape(cli.url, { timeoutMs: 15_000 });
        assert.ok(performance.now() - started < 3000, 'no source needs its 3 s timeout to fail');
        assert.equal(up(all, 'healthy'), 1, `scrape ${i}: the healthy source is up`);
        assert.equal(all.get('healthy_v'), 7);
        assert.equal(errors(all, 'million', 'too_large'), i, '6.9 MB is over the default maxBodySize (4MiB)');
        assert.equal(errors(all, 'million_zeros', 'too_large'), i, 'a million values are refused before parsing');
        assert.equal(errors(all, 'distinct', 'series_limit'), i, 'mapping stops at the series limit');
        assert.equal(errors(all, 'zeros', 'too_large'), i, '16 MB of zeros are over maxBodySize');
        assert.equal(errors(all, 'deep', 'parse'), i, 'the deep array is refused with a short message, no stack overflow');
        assert.equal(all.get('custom_exporter_http_status_code{source="zeros"}'), 200);
      }
      const failures = new Map(
        cli
          .logs()
          .filter((l) => l.msg === 'source collection failed')
          .map((l) => [l.source, String(l.err)]),
      );
      assert.match(failures.get('million')!, /larger than maxBodySize \(4MiB\)/);
      assert.match(failures.get('million_zeros')!, /holds more than 150000 values/);
      assert.match(failures.get('deep')!, /nested deeper than 1000 levels/);
      const slowest = await health.stop();
      assert.ok(slowest < PROBE_TIMEOUT_MS, `/healthz answered within ${PROBE_TIMEOUT_MS} ms (slowest: ${slowest} ms)`);
      const peak = await peakRssKb(cli.pid);
      console.log(`JSON mapping: peak RSS ${Math.round(peak / 1024)} MiB`);
      assert.ok(peak < RSS_LIMIT_KB, `peak RSS ${peak} kB`);
    } finally {
      await health.stop();
      cli.signal('SIGKILL');
    }
  });

  test('mapping that outlives the timeout is cut off there, and the next collections still map', async () => {
    const cli = await startExporter(
      [
        'sources:',
        `  - { kind: http, name: slow, url: ${targetUrl}/slow, timeout: 100ms, metrics: [{ name: slow_v, each: '$[*]', path: $.v, labels: { i: $.v } }] }`,
        `  - { kind: http, name: healthy, url: ${targetUrl}/ok, metrics: [{ name: healthy_v, path: $.v }] }`,
      ].join('\n'),
    );
    try {
      for (let i = 1; i <= 3; i++) {
        const started = performance.now();
        const { samples: all } = await scrape(cli.url, { timeoutMs: 15_000 });
        assert.ok(performance.now() - started < 2000, 'the scrape ends soon after the 100 ms timeout');
        assert.equal(errors(all, 'slow', 'timeout'), i);
        assert.equal(all.get('healthy_v'), 7, `scrape ${i}: the healthy source maps after a worker was terminated`);
      }
    } finally {
      cli.signal('SIGKILL');
    }
  });

  test('valueMap never reads the object prototype; the page stays valid for promtool', async (t) => {
    const promtool = requireTool(t, 'promtool', 'apt-get install prometheus');
    if (!promtool) return;
    const names = ['constructor', 'toString', 'valueOf', '__proto__', 'hasOwnProperty'];
    const cli = await startExporter(
      [
        'sources:',
        ...names.map(
          (s) =>
            `  - { kind: http, name: p_${s}, url: '${targetUrl}/prototype?s=${s}', metrics: [{ name: p_${s}, path: $.s, valueMap: { UP: 1 } }] }`,
        ),
        `  - { kind: http, name: healthy, url: ${targetUrl}/ok, metrics: [{ name: healthy_v, path: $.v }] }`,
      ].join('\n'),
    );
    try {
      const { body: text, samples: all } = await scrape(cli.url, { timeoutMs: 15_000 });
      for (const s of names) {
        assert.equal(up(all, `p_${s}`), 0, `"${s}" is not in valueMap`);
        assert.equal(errors(all, `p_${s}`, 'value'), 1);
      }
      assert.equal(all.get('healthy_v'), 7);
      const check = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
      assert.doesNotMatch(check.stderr, /error/i, check.stderr);
    } finally {
      cli.signal('SIGKILL');
    }
  });

  test('a label named __proto__ (any __ name) is a config error', async () => {
    const file = join(dir, 'proto-label.yaml');
    await writeFile(file, `sources:\n  - kind: file\n    path: x.json\n    metrics:\n      - { name: a, labels: { __proto__: x } }\n`);
    const run = await runCli(['check-config', file]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /proto-label\.yaml:5:\d+: sources\[0\]\.metrics\[0\]\.labels.*__proto__.*reserved/);
  });
});

describe('command sources', () => {
  test('exit_code is -1 when the command times out or cannot start; status_code is 0 when a request times out', async () => {
    const cli = await startExporter(
      [
        'sources:',
        `  - { kind: command, name: slow, command: [sleep, '30'], timeout: 300ms, metrics: [{ name: a }] }`,
        `  - { kind: command, name: missing, command: [${join(dir, 'no-such-program')}], metrics: [{ name: b }] }`,
        `  - { kind: http, name: silent, url: ${targetUrl}/silent, timeout: 300ms, metrics: [{ name: c }] }`,
      ].join('\n'),
    );
    try {
      const { samples: all } = await scrape(cli.url, { timeoutMs: 15_000 });
      assert.equal(errors(all, 'slow', 'timeout'), 1);
      assert.equal(all.get('custom_exporter_command_exit_code{source="slow"}'), -1);
      assert.equal(errors(all, 'missing', 'error'), 1);
      assert.equal(all.get('custom_exporter_command_exit_code{source="missing"}'), -1);
      assert.equal(errors(all, 'silent', 'timeout'), 1);
      assert.equal(all.get('custom_exporter_http_status_code{source="silent"}'), 0);
    } finally {
      cli.signal('SIGKILL');
    }
  });

  test('a background child holding stdout does not delay the value; a setsid child is killed too', async () => {
    const pidFile = join(dir, 'setsid.pid');
    const background = await shellScript(dir, 'background.sh', 'sleep 30 &\necho 5');
    // The script waits for its escaped child to write its pid, so the test knows which process must go.
    const escaping = await shellScript(
      dir,
      'escaping.sh',
      `setsid sh -c 'echo $$ > ${pidFile}.tmp && mv ${pidFile}.tmp ${pidFile}; exec sleep 300' &\nwhile [ ! -s ${pidFile} ]; do sleep 0.01; done\necho 6`,
    );
    const cli = await startExporter(
      [
        'sources:',
        `  - { kind: command, name: background, command: [${background}], output: number, timeout: 5s, metrics: [{ name: background_v }] }`,
        `  - { kind: command, name: escaping, command: [${escaping}], output: number, timeout: 5s, metrics: [{ name: escaping_v }] }`,
      ].join('\n'),
    );
    try {
      const started = performance.now();
      const { samples: all } = await scrape(cli.url, { timeoutMs: 15_000 });
      assert.ok(performance.now() - started < 3000, 'the value arrives when the command exits, not at the timeout');
      assert.equal(all.get('background_v'), 5);
      assert.equal(all.get('escaping_v'), 6);
      await waitGone(Number(await waitForFile(pidFile)), 'the setsid child');
    } finally {
      cli.signal('SIGKILL');
    }
  });

  test('a second SIGTERM does not orphan the running command', async () => {
    const pidFile = join(dir, 'running.pid');
    const long = await shellScript(dir, 'long.sh', `echo $$ > ${pidFile}\nexec sleep 300`);
    const cli = await startExporter(
      `sources:\n  - { kind: command, name: long, command: [${long}], timeout: 60s, metrics: [{ name: long_v }] }\nglobal: { scrapeTimeout: 60s }`,
    );
    try {
      const pending = fetch(`${cli.url}/metrics`).catch(() => undefined);
      const pid = Number(await waitForFile(pidFile));
      cli.signal('SIGTERM');
      // Signals sent back to back are delivered as one: send the second once the first is being handled.
      await cli.waitForLog((l) => l.msg === 'shutting down', 5000);
      cli.signal('SIGTERM');
      assert.equal(await cli.exited, 1, 'the second signal exits at once');
      await waitGone(pid, 'the command');
      await pending;
    } finally {
      cli.signal('SIGKILL');
    }
  });

  test('endless output stops at maxOutputSize (too_large), the default cap included; /healthz, a healthy command and RSS hold', async () => {
    const healthy = await shellScript(dir, 'healthy.sh', 'echo 9');
    const cli = await startExporter(
      [
        'sources:',
        `  - { kind: command, name: endless, command: [yes], maxOutputSize: 1MiB, metrics: [{ name: y }] }`,
        `  - { kind: command, name: endless_default, command: [yes], metrics: [{ name: z }] }`,
        `  - { kind: command, name: healthy, command: [${healthy}], output: number, metrics: [{ name: healthy_v }] }`,
      ].join('\n'),
    );
    const health = probeHealth(cli);
    try {
      for (let i = 1; i <= 3; i++) {
        const { samples: all } = await scrape(cli.url, { timeoutMs: 15_000 });
        assert.equal(errors(all, 'endless', 'too_large'), i);
        assert.equal(errors(all, 'endless_default', 'too_large'), i);
        assert.equal(all.get('custom_exporter_command_exit_code{source="endless"}'), -1, 'killed');
        assert.equal(up(all, 'healthy'), 1);
        assert.equal(all.get('healthy_v'), 9);
      }
      const slowest = await health.stop();
      assert.ok(slowest < PROBE_TIMEOUT_MS, `/healthz answered within ${PROBE_TIMEOUT_MS} ms (slowest: ${slowest} ms)`);
      const peak = await peakRssKb(cli.pid);
      console.log(`command output: peak RSS ${Math.round(peak / 1024)} MiB`);
      assert.ok(peak < RSS_LIMIT_KB, `peak RSS ${peak} kB`);
    } finally {
      await health.stop();
      cli.signal('SIGKILL');
    }
  });
});

describe('http sources', () => {
  test('a secret file or CA file that is a FIFO fails the start at once instead of hanging it', async (t) => {
    const mkfifo = requireTool(t, 'mkfifo', 'apt-get install coreutils');
    if (!mkfifo) return;
    const fifo = join(dir, 'credential.fifo');
    execFileSync(mkfifo, [fifo]);
    const cases = [
      [
        'secret',
        `auth: { basic: { username: u, password: { file: ${fifo} } } }`,
        /:\d+:\d+: sources\[0\]\.auth\.basic\.password\.file: .*credential\.fifo is not a regular file \(a FIFO\)/,
      ],
      ['ca', `tls: { caFile: ${fifo} }`, /:\d+:\d+: sources\[0\]\.tls\.caFile: .*credential\.fifo is not a regular file \(a FIFO\)/],
    ] as const;
    for (const [name, field, message] of cases) {
      const file = join(dir, `fifo-${name}.yaml`);
      await writeFile(file, `sources:\n  - kind: http\n    url: ${targetUrl}/ok\n    ${field}\n    metrics: [{ name: a, path: $.v }]\n`);
      // Killed after 10 s if it hangs: the exit status is then null.
      const run = await runCli([`--config.file=${file}`, '--web.listen-address=127.0.0.1:0'], { timeoutMs: 10_000 });
      assert.equal(run.code, 2, `${name}: the exporter does not hang at startup`);
      assert.match(run.stderr, message);
    }
  });

  test('follows up to 10 redirects, decompresses gzip, and caps bodies (decompressed size included)', async () => {
    const cli = await startExporter(
      [
        'sources:',
        `  - { kind: http, name: redirected, url: ${targetUrl}/redirect/10, metrics: [{ name: redirected_v, path: $.v }] }`,
        `  - { kind: http, name: looping, url: ${targetUrl}/redirect/11, metrics: [{ name: looping_v, path: $.v }] }`,
        `  - { kind: http, name: gzipped, url: ${targetUrl}/gzip, metrics: [{ name: gzipped_v, path: $.v }] }`,
        `  - { kind: http, name: bomb, url: ${targetUrl}/bomb, maxBodySize: 1MiB, metrics: [{ name: bomb_v }] }`,
        `  - { kind: http, name: endless, url: ${targetUrl}/endless, maxBodySize: 2MiB, metrics: [{ name: endless_v }] }`,
        `  - { kind: http, name: endless_default, url: ${targetUrl}/endless, metrics: [{ name: endless_default_v }] }`,
        `  - { kind: http, name: healthy, url: ${targetUrl}/ok, metrics: [{ name: healthy_v, path: $.v }] }`,
      ].join('\n'),
    );
    const health = probeHealth(cli);
    try {
      const { samples: all } = await scrape(cli.url, { timeoutMs: 15_000 });
      assert.equal(all.get('healthy_v'), 7);
      assert.equal(all.get('redirected_v'), 3);
      assert.equal(errors(all, 'looping', 'status'), 1, 'an eleventh redirect is refused');
      assert.equal(all.get('custom_exporter_http_status_code{source="looping"}'), 302);
      assert.equal(all.get('gzipped_v'), 5);
      assert.equal(errors(all, 'bomb', 'too_large'), 1);
      assert.equal(errors(all, 'endless', 'too_large'), 1);
      assert.equal(errors(all, 'endless_default', 'too_large'), 1, 'the default maxBodySize applies');
      const slowest = await health.stop();
      assert.ok(slowest < PROBE_TIMEOUT_MS, `/healthz answered within ${PROBE_TIMEOUT_MS} ms (slowest: ${slowest} ms)`);
      const peak = await peakRssKb(cli.pid);
      console.log(`http bodies: peak RSS ${Math.round(peak / 1024)} MiB`);
      assert.ok(peak < RSS_LIMIT_KB, `peak RSS ${peak} kB`);
    } finally {
      await health.stop();
      cli.signal('SIGKILL');
    }
  });
});
