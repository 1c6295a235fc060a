import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import fc from 'fast-check';
import { serveCli } from './support/cli.ts';
import { eventually } from './support/eventually.ts';
import { scrape } from './support/scrape.ts';

const REQUESTS = 10_000;
const CONCURRENCY = 32;

// Hostile and malformed HTTP/1.x requests, as raw bytes.
const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
const junk = fc.string({ unit: 'binary', maxLength: 64 });
const method = fc.oneof(
  fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT', 'PATCH', 'get', ''),
  token,
  junk,
);
const path = fc.oneof(
  fc.constantFrom(
    '/metrics',
    '/',
    '/healthz',
    '/readyz',
    '/-/reload',
    '*',
    'http://127.0.0.1/metrics',
    '/metrics?x=%zz',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/metrics%00',
    '//metrics',
    '/m%C3%A9trics',
    '/\u00e9',
    '',
  ),
  fc.stringMatching(/^\/[ -~]{0,80}$/),
  fc.string({ unit: 'binary', maxLength: 100 }).map((s) => `/${s}`),
  fc.integer({ min: 1000, max: 20_000 }).map((n) => `/metrics?${'a'.repeat(n)}`),
);
const version = fc.oneof(fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/0.9', 'HTTP/1.1 extra', ''), junk);
const header = fc.oneof(
  fc.tuple(token, fc.string({ maxLength: 40 })).map(([k, v]) => `${k}: ${v}`),
  fc.constantFrom(
    'Content-Length: 10',
    'Content-Length: -1',
    'Content-Length: 99999999999999999999',
    'Transfer-Encoding: chunked',
    'Transfer-Encoding: gzip, chunked',
    'Accept-Encoding: gzip;q=0, *;q=2',
    `Accept-Encoding: ${'gzip,'.repeat(500)}`,
    'Authorization: Basic !!!',
    `Authorization: Basic ${Buffer.from('a'.repeat(2000)).toString('base64')}`,
    'X-Prometheus-Scrape-Timeout-Seconds: -5',
    'X-Prometheus-Scrape-Timeout-Seconds: 1e308',
    'X-Prometheus-Scrape-Timeout-Seconds: NaN',
    'Host:',
    ': no-name',
    'Bad Header Name: x',
    'X: a\rb',
  ),
  fc.integer({ min: 4000, max: 20_000 }).map((n) => `X-Huge: ${'h'.repeat(n)}`),
  junk,
);
const body = fc.oneof(fc.constant(''), fc.string({ maxLength: 200 }), fc.constant('5\r\nhello\r\n'), fc.constant('zz\r\n'));
const rawRequest = fc
  .record({ method, path, version, headers: fc.array(header, { maxLength: 8 }), body, truncate: fc.nat({ max: 3 }) })
  .map(({ method, path, version, headers, body, truncate }) => {
    const text = `${method} ${path} ${version}\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n${body}`;
    // A quarter are cut short, like a client that dies mid-request.
    return truncate === 0 ? text.slice(0, Math.max(1, Math.floor(text.length / 2))) : text;
  });

/** Sends raw bytes; resolves with whatever came back before the server closed or 1 s passed. */
function send(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(done, 1000);
    socket.on('data', (c: Buffer) => (answer += c.toString('latin1')));
    socket.once('error', done);
    socket.once('close', done);
    socket.write(Buffer.from(bytes, 'latin1'));
  });
}

const MiB = 2 ** 20;

test(`${REQUESTS} malformed and hostile requests: no crash, no internals leaked, scrapes keep working, memory back to baseline`, {
  timeout: 300_000,
}, async () => {
  const cli = await serveCli();
  const port = Number(new URL(cli.url).port);
  let exited = false;
  void cli.exited.then(() => (exited = true));
  try {
    const scrapeDemo = async () => assert.match((await scrape(cli.url)).body, /^random_number \d+$/m);
    const gauge = async (name: string) => (await scrape(cli.url)).samples.get(name)!;
    for (let i = 0; i < 200; i++) await scrapeDemo();
    const heapBaseline = await gauge('nodejs_heap_size_used_bytes');
    const fdsBaseline = await gauge('process_open_fds');

    const requests = fc.sample(rawRequest, { numRuns: REQUESTS, seed: 20261124 });
    let next = 0;
    let answered = 0;
    const leaks: string[] = [];
    const worker = async () => {
      while (next < requests.length) {
        const index = next++;
        const answer = await send(port, requests[index]!);
        if (answer) answered++;
        if (/\n\s+at |node:internal|Error: |\/work\/|dist\//.test(answer)) leaks.push(answer.slice(0, 300));
        if (index % 250 === 0) await scrapeDemo();
      }
    };
    // Measured once the server has closed every fuzz connection (a half-sent request is held until its timeout).
    const settle = async () => {
      await eventually(
        async () => {
          const fds = await gauge('process_open_fds');
          assert.ok(fds <= fdsBaseline, `${fds} open file descriptors, ${fdsBaseline} before the fuzzing`);
        },
        { timeoutMs: 60_000, intervalMs: 100 },
      );
      for (let i = 0; i < 20; i++) await scrapeDemo();
    };
    // The same requests twice: the first pass finds the high-water mark of buffers, the second must not
    // move it (memory that grows with every pass is a leak).
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await settle();
    const rssAfterFirst = cli.rss();
    next = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await settle();
    const rssAfterSecond = cli.rss();
    const heapAfter = await gauge('nodejs_heap_size_used_bytes');

    assert.equal(exited, false, 'the exporter is still running');
    assert.deepEqual(leaks, [], 'no stack traces or paths in any answer');
    assert.ok(answered > REQUESTS, `${answered} of ${2 * REQUESTS} requests got an answer`);
    process.stdout.write(
      `# JS heap ${(heapBaseline / MiB).toFixed(1)} → ${(heapAfter / MiB).toFixed(1)} MiB; RSS after pass 1 ${(rssAfterFirst / MiB).toFixed(1)}, after pass 2 ${(rssAfterSecond / MiB).toFixed(1)} MiB\n`,
    );
    assert.ok(heapAfter < heapBaseline * 1.25 + 4 * MiB, `the JS heap went from ${heapBaseline} to ${heapAfter} bytes`);
    // Slack of 8 MiB: the CLI gives back its startup memory, so V8's young generation starts small and may
    // still be growing back during the second pass; a leak of 2 KiB per request (20 MiB a pass) still exceeds it.
    assert.ok(rssAfterSecond < rssAfterFirst * 1.05 + 8 * MiB, `RSS kept growing: ${rssAfterFirst} → ${rssAfterSecond} bytes`);
  } finally {
    cli.signal('SIGKILL');
  }
});
