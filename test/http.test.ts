import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { pino } from 'pino';
import { createApp } from '../src/http/app.ts';
import { listen } from '../src/http/server.ts';
import { startTestExporter, type TestExporter } from './support/exporter.ts';
import { scrape } from './support/scrape.ts';

/** A raw HTTP exchange (fetch would decompress gzip and hide what was sent). */
function raw(url: string, method = 'GET', headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.once('error', reject);
    req.end();
  });
}

describe('HTTP endpoints', () => {
  let exporter: TestExporter;
  before(async () => {
    exporter = await startTestExporter('sources: [{ kind: demo }, { kind: throw, name: flaky }]');
  });
  after(() => exporter.stop());

  test('GET /metrics answers 200 with the Prometheus text format content type', async () => {
    const res = await raw(`${exporter.url}/metrics`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['content-encoding'], undefined);
    assert.match(res.body.toString(), /^random_number \d+$/m);
  });

  test('gzip is used when the client accepts it', async () => {
    const res = await raw(`${exporter.url}/metrics`, 'GET', { 'Accept-Encoding': 'gzip, deflate' });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-encoding'], 'gzip');
    assert.match(String(res.headers.vary), /Accept-Encoding/);
    assert.match(gunzipSync(res.body).toString(), /^random_number \d+$/m);
  });

  test('HEAD /metrics answers like GET without a body', async () => {
    const res = await raw(`${exporter.url}/metrics`, 'HEAD');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(res.body.length, 0);
  });

  test('other methods get 405 with Allow, unknown paths 404', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await raw(`${exporter.url}/metrics`, method);
      assert.equal(res.status, 405, method);
      assert.equal(res.headers.allow, 'GET, HEAD');
    }
    assert.equal((await raw(`${exporter.url}/nope`)).status, 404);
    assert.equal((await raw(`${exporter.url}/metrics/extra`)).status, 404);
  });

  test('/healthz and /readyz answer 200 once started', async () => {
    assert.equal((await raw(`${exporter.url}/healthz`)).status, 200);
    const ready = await raw(`${exporter.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(ready.body.toString(), 'ready\n');
  });

  test('the landing page names the exporter, its version, links and each source with its state', async () => {
    await scrape(exporter.url);
    const res = await raw(`${exporter.url}/`);
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    const html = res.body.toString();
    assert.match(html, /<h1>custom-exporter<\/h1>/);
    assert.match(html, /Version \d+\.\d+\.\d+/);
    assert.match(html, /<a href="metrics">/);
    assert.match(html, /<a href="healthz">/);
    assert.match(html, /<td>demo<\/td><td>demo<\/td><td class="up">up<\/td>/);
    assert.match(html, /<td>flaky<\/td><td>throw<\/td><td class="down">down<br><small>backend unreachable<\/small><\/td>/);
  });

  test('self-metrics: build info, scrapes by code, source up', async () => {
    await scrape(exporter.url);
    const all = (await scrape(exporter.url)).samples;
    const build = [...all.keys()].find((k) => k.startsWith('custom_exporter_build_info{'));
    assert.match(build ?? '', /version="\d+\.\d+\.\d+",node_version="\d+\.\d+\.\d+"/);
    assert.ok(all.get('custom_exporter_scrapes_total{code="200"}')! >= 1);
    assert.equal(all.get('custom_exporter_source_up{source="demo"}'), 1);
    assert.equal(all.get('custom_exporter_source_up{source="flaky"}'), 0);
    assert.ok(all.has('process_cpu_seconds_total'));
    assert.ok(all.has('process_resident_memory_bytes'));
    assert.ok(all.has('nodejs_eventloop_lag_p99_seconds'));
  });
});

test('--web.disable-exporter-metrics leaves out process_* and nodejs_* but keeps custom_exporter_*', async () => {
  const exporter = await startTestExporter('sources: [{ kind: demo }]', { exporterMetrics: false });
  try {
    const { body } = await scrape(exporter.url);
    assert.doesNotMatch(body, /^(process|nodejs)_/m);
    assert.match(body, /^custom_exporter_source_up\{source="demo"\} 1$/m);
  } finally {
    await exporter.stop();
  }
});

test('when collection fails as a whole, /metrics answers 503 with a one-line reason', async () => {
  const codes: number[] = [];
  const app = createApp(
    {
      about: { name: 'custom-exporter', version: '0.0.0', sources: () => [] },
      metrics: {
        path: '/metrics',
        maxRequests: 40,
        scrape: () => Promise.reject(new Error('collection did not finish within 100 ms')),
        defaultTimeoutMs: 100,
        timeoutOffsetMs: 0,
        onScrape: (code) => codes.push(code),
      },
      isReady: () => true,
      reload: undefined,
    },
    { web: () => ({ headers: {}, users: new Map() }), protectHealth: false },
    pino({ level: 'silent' }),
  );
  const server = await listen(app, { host: '127.0.0.1', port: 0 }, undefined, pino({ level: 'silent' }));
  try {
    const res = await raw(`http://127.0.0.1:${server.address.port}/metrics`);
    assert.equal(res.status, 503);
    assert.equal(res.body.toString(), 'error collecting metrics: collection did not finish within 100 ms\n');
    assert.deepEqual(codes, [503]);
  } finally {
    await server.close(100);
  }
});
