import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { startWebCli, type WebCli } from './support/web-cli.ts';

// Issue 11, HTTP serving: pipelined requests, 503s from --web.max-requests, CONNECT. The built CLI as a child,
// raw sockets where a client library would hide what is on the wire.

/** Writes `raw` on one connection and returns everything the server sent until it closed or `idleMs` of silence. */
function exchange(url: string, raw: string, idleMs = 3000): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(raw));
    let received = '';
    socket.setTimeout(idleMs, () => socket.end());
    socket.on('data', (c: Buffer) => (received += c.toString('latin1')));
    socket.once('error', reject);
    socket.once('close', () => resolve(received));
  });
}

const statusLines = (received: string) => [...received.matchAll(/^HTTP\/1\.1 (\d{3}) /gm)].map((m) => Number(m[1]));

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.once('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.once('error', reject);
    req.end();
  });
}

describe('serving HTTP', () => {
  let cli: WebCli;
  after(() => cli?.kill());

  test('50 pipelined requests on one connection are served one at a time: 50 × 200, none 503', async () => {
    cli = await startWebCli([]); // --web.max-requests 40 by default
    const received = await exchange(cli.url, 'GET /metrics HTTP/1.1\r\nHost: exporter\r\n\r\n'.repeat(50), 5000);
    const statuses = statusLines(received);
    assert.equal(statuses.length, 50, `answers: ${statuses.join(',')}`);
    assert.deepEqual(new Set(statuses), new Set([200]));
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
  let cli: WebCli;
  after(() => cli?.kill());

  test('are counted in custom_exporter_scrapes_total{code="503"}', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'max-requests-'));
    const config = join(dir, 'sources.yaml');
    // A source that takes a second, so concurrent scrapes overlap.
    writeFileSync(
      config,
      "sources:\n  - kind: command\n    name: slow\n    command: [sh, -c, 'sleep 1; echo 1']\n    output: number\n    metrics:\n      - { name: slow_value }\n",
    );
    cli = await startWebCli([`--config.file=${config}`, '--web.max-requests=1']);
    const answers = await Promise.all(Array.from({ length: 6 }, () => get(`${cli.url}/metrics`)));
    const refused = answers.filter((a) => a.status === 503).length;
    assert.ok(refused >= 1, `statuses: ${answers.map((a) => a.status).join(',')}`);
    assert.equal(answers.filter((a) => a.status === 200).length + refused, 6);
    const exposition = (await get(`${cli.url}/metrics`)).body;
    assert.match(exposition, new RegExp(`^custom_exporter_scrapes_total\\{code="503"\\} ${refused}$`, 'm'));
  });
});
