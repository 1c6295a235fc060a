import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { type ServingCli, serveCli } from './support/cli.ts';
import { get } from './support/http-get.ts';

// Issue 11, HTTP serving: pipelined requests, 503s from --web.max-requests, CONNECT. The built CLI as a child,
// raw sockets where a client library would hide what is on the wire.

/**
 * Writes `raw` on one connection and returns everything the server sent until it closed, `enough` said so, or
 * `idleMs` of silence.
 */
function exchange(url: string, raw: string, idleMs = 3000, enough: (received: string) => boolean = () => false): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(raw));
    let received = '';
    socket.setTimeout(idleMs, () => socket.end());
    socket.on('data', (c: Buffer) => {
      received += c.toString('latin1');
      if (enough(received)) socket.end();
    });
    socket.once('error', reject);
    socket.once('close', () => resolve(received));
  });
}

const statusLines = (received: string) => [...received.matchAll(/^HTTP\/1\.1 (\d{3}) /gm)].map((m) => Number(m[1]));

describe('serving HTTP', () => {
  let cli: ServingCli;
  after(() => cli?.kill());

  test('50 pipelined requests on one connection are served one at a time: 50 × 200, none 503', async () => {
    cli = await serveCli([]); // --web.max-requests 40 by default
    const request = 'GET /metrics HTTP/1.1\r\nHost: exporter\r\n\r\n';
    // Stops at the 50th complete answer (the exposition ends with a newline), or after 5 s of silence.
    const received = await exchange(cli.url, request.repeat(50), 5000, (r) => statusLines(r).length === 50 && r.endsWith('\n'));
    const statuses = statusLines(received);
    assert.equal(statuses.length, 50, `answers: ${statuses.join(',')}`);
    assert.deepEqual(new Set(statuses), new Set([200]));
  });

  test('clients pipelining without reading their answers are cut off, and RSS stays under 256 MiB', async () => {
    const { port } = new URL(cli.url);
    const chunk = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(1000);
    let peak = cli.rss();
    const closed = Array.from({ length: 4 }, () => {
      const socket = connect(Number(port), '127.0.0.1');
      socket.pause(); // never reads an answer
      socket.on('error', () => {});
      let sent = 0;
      const pump = () => {
        while (sent < 200 && !socket.destroyed && socket.write(chunk)) sent++;
        if (sent < 200 && !socket.destroyed) socket.once('drain', pump);
      };
      socket.once('connect', pump);
      return new Promise<number>((resolve) => socket.once('close', () => resolve(sent)));
    });
    const sampling = setInterval(() => (peak = Math.max(peak, cli.rss())), 100);
    try {
      const sent = await Promise.race([
        Promise.all(closed),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('connections not closed within 20 s')), 20_000).unref()),
      ]);
      // Cut off long before all 200,000 requests per connection were sent.
      assert.ok(
        sent.every((n) => n < 200),
        `chunks sent: ${sent.join(',')}`,
      );
    } finally {
      clearInterval(sampling);
    }
    assert.ok(peak < 256 * 1024 * 1024, `RSS peaked at ${Math.round(peak / 1048576)} MiB`);
    assert.equal((await get(`${cli.url}/healthz`)).status, 200);
  });

  test('CONNECT gets 405 with Allow, not a bare close', async () => {
    const received = await exchange(cli.url, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    assert.match(received, /^HTTP\/1\.1 405 Method Not Allowed\r\n/);
    assert.match(received, /\r\nAllow: GET, HEAD, POST\r\n/);
    // The exporter is still serving.
    assert.equal((await get(`${cli.url}/healthz`)).status, 200);
  });

  test('a request asking for a protocol upgrade is served as a plain request', async () => {
    const received = await exchange(cli.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n', 1000);
    assert.match(received, /^HTTP\/1\.1 200 OK\r\n/);
  });
});

describe('503 from --web.max-requests', () => {
  let cli: ServingCli;
  after(() => cli?.kill());

  test('are counted in custom_exporter_scrapes_total{code="503"}', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'max-requests-'));
    const config = join(dir, 'sources.yaml');
    // A source that takes a second, so concurrent scrapes overlap.
    writeFileSync(
      config,
      "sources:\n  - kind: command\n    name: slow\n    command: [sh, -c, 'sleep 1; echo 1']\n    output: number\n    metrics:\n      - { name: slow_value }\n",
    );
    cli = await serveCli([`--config.file=${config}`, '--web.max-requests=1']);
    const answers = await Promise.all(Array.from({ length: 6 }, () => get(`${cli.url}/metrics`)));
    const refused = answers.filter((a) => a.status === 503).length;
    assert.ok(refused >= 1, `statuses: ${answers.map((a) => a.status).join(',')}`);
    assert.equal(answers.filter((a) => a.status === 200).length + refused, 6);
    const exposition = (await get(`${cli.url}/metrics`)).body;
    assert.match(exposition, new RegExp(`^custom_exporter_scrapes_total\\{code="503"\\} ${refused}$`, 'm'));
  });
});
