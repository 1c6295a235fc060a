import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { SERVER_LIMITS } from '../src/http/request-limits.ts';
import { startTestExporter } from './support/exporter.ts';

test('--web.max-requests: scrapes beyond the in-flight limit get 503 at once', async () => {
  const exporter = await startTestExporter('sources: [{ kind: hang, timeout: 1s }]', {
    web: { config: undefined, maxRequests: 2, protectHealth: false },
  });
  try {
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => fetch(`${exporter.url}/metrics`).then(async (r) => [r.status, await r.text()] as const)),
    );
    const statuses = answers.map(([s]) => s).sort();
    assert.deepEqual(statuses, [200, 200, 503, 503, 503]);
    assert.ok(answers.some(([s, body]) => s === 503 && body === 'too many concurrent requests (limit 2)\n'));
    // Health checks are not scrapes and are not limited.
    assert.equal((await fetch(`${exporter.url}/healthz`)).status, 200);
  } finally {
    await exporter.stop();
  }
});

test('an over-long URL gets 414 and oversized headers 431', async () => {
  const exporter = await startTestExporter('sources: [{ kind: demo }]');
  try {
    assert.equal((await fetch(`${exporter.url}/metrics?${'a'.repeat(3000)}`)).status, 414);
    assert.equal((await fetch(`${exporter.url}/metrics`, { headers: { 'X-Big': 'b'.repeat(SERVER_LIMITS.maxHeaderSize) } })).status, 431);
    assert.equal((await fetch(`${exporter.url}/metrics`)).status, 200, 'normal requests still work');
  } finally {
    await exporter.stop();
  }
});

test('a client that sends its headers too slowly is disconnected', { timeout: 30_000 }, async () => {
  const exporter = await startTestExporter('sources: [{ kind: demo }]');
  try {
    const started = Date.now();
    const closed = await new Promise<{ ms: number; data: string }>((resolve, reject) => {
      const socket = connect(exporter.address.port, '127.0.0.1');
      let data = '';
      socket.on('data', (c: Buffer) => (data += c.toString()));
      socket.once('error', reject);
      socket.once('close', () => resolve({ ms: Date.now() - started, data }));
      socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
      // A header line a second, never the blank line that ends them (slowloris).
      const drip = setInterval(() => socket.writable && socket.write(`X-Slow-${Date.now()}: 1\r\n`), 1000);
      socket.once('close', () => clearInterval(drip));
    });
    assert.ok(closed.ms < SERVER_LIMITS.headersTimeout + 5000, `closed after ${closed.ms} ms`);
    assert.match(closed.data, /^HTTP\/1\.1 408/);
  } finally {
    await exporter.stop();
  }
});
