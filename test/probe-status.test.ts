// Issue 13, the operator's view of /probe: recent probes on the landing page, the check-config warning for a module
// that refuses everything, refusals counted by reason, and gzip as on /metrics. All through the real built CLI.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { chromium } from './support/chromium.ts';
import { runCli, type ServingCli, serveCli } from './support/cli.ts';
import { samples } from './support/scrape.ts';
import { requireTool } from './support/tools.ts';

async function configFile(yaml: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'probe-status-'));
  const file = join(dir, 'probe.yaml');
  await writeFile(file, yaml);
  return file;
}

/** A local target: /status answers JSON, /away redirects to a host no module allows. */
async function startTarget(): Promise<{ server: Server; host: string; port: number }> {
  const server = createServer((req, res) => {
    if (req.url === '/away') {
      res.writeHead(302, { location: 'http://192.0.2.1/status' }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"up": 1}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { server, host: `127.0.0.1:${port}`, port };
}

const MODULES = `
sources: [{ kind: demo }]
modules:
  - name: web
    kind: http
    url: http://target.invalid/status
    metrics: [{ name: app_up, path: $.up }]
    allow: { cidrs: [127.0.0.1/32] }
  - name: named
    kind: http
    url: http://target.invalid/status
    metrics: [{ name: app_up, path: $.up }]
    allow: { hosts: [localhost], cidrs: [10.0.0.0/8] }
  - name: hop
    kind: http
    url: http://target.invalid/away
    metrics: [{ name: app_up, path: $.up }]
    allow: { cidrs: [127.0.0.1/32] }
  - name: closed
    kind: http
    url: http://target.invalid/
    output: prometheus
  - name: cmd
    kind: command
    command: [echo, "{{target}}"]
    output: prometheus
    allow: { hosts: [localhost] }
`;

describe('/probe seen by an operator', () => {
  let exporter: ServingCli;
  let target: Awaited<ReturnType<typeof startTarget>>;

  before(async () => {
    target = await startTarget();
    exporter = await serveCli([`--config.file=${await configFile(MODULES)}`, '--web.listen-address=127.0.0.1:0', '--log.format=json']);
  });
  after(async () => {
    await exporter?.kill();
    target?.server.close();
  });

  const probe = async (query: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${exporter.url}/probe?${query}`, { headers, signal: AbortSignal.timeout(30_000) });
    const body = await res.text();
    return { status: res.status, body, samples: samples(body) };
  };
  const refused = async () => {
    const res = await fetch(`${exporter.url}/metrics`, { signal: AbortSignal.timeout(30_000) });
    const text = await res.text();
    const counts = new Map<string, number>();
    for (const m of text.matchAll(/^custom_exporter_probe_refused_total\{([^}]*)\} (\S+)$/gm)) {
      const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
      counts.set(`${labels.module}/${labels.reason}`, Number(m[2]));
    }
    return counts;
  };

  test('start logs a warning naming a module without allow: and its field', () => {
    const warning = exporter.logs().find((l) => typeof l.msg === 'string' && l.msg.includes('modules[3].allow'));
    assert.ok(warning, exporter.stderr());
    assert.equal(warning.level, 'warn');
    assert.match(String(warning.msg), /modules\[3\]\.allow: module "closed" has no allow: it refuses every target$/);
  });

  test('custom_exporter_probe_refused_total counts target (403), dns and redirect (probe_success 0)', async () => {
    const byTarget = await probe('module=web&target=192.0.2.7');
    assert.equal(byTarget.status, 403, byTarget.body);
    const byDns = await probe(`module=named&target=localhost:${target.port}`);
    assert.equal(byDns.status, 200, byDns.body);
    assert.equal(byDns.samples.get('probe_success'), 0);
    const byRedirect = await probe(`module=hop&target=${target.host}`);
    assert.equal(byRedirect.status, 200, byRedirect.body);
    assert.equal(byRedirect.samples.get('probe_success'), 0);
    // Positive control: the same target through a module that allows it and does not redirect succeeds.
    const allowed = await probe(`module=web&target=${target.host}`);
    assert.equal(allowed.samples.get('probe_success'), 1, allowed.body);
    const counts = await refused();
    assert.equal(counts.get('web/target'), 1, JSON.stringify([...counts]));
    assert.equal(counts.get('named/dns'), 1, JSON.stringify([...counts]));
    assert.equal(counts.get('hop/redirect'), 1, JSON.stringify([...counts]));
  });

  test('/probe follows Accept-Encoding as /metrics does', async () => {
    const url = `${exporter.url}/probe?module=web&target=${target.host}`;
    // node's fetch would decompress on its own: the raw bytes are read through node:http.
    const raw = async (encoding: string) => {
      const { request } = await import('node:http');
      return new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
        request(url, { headers: { 'accept-encoding': encoding } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
        })
          .on('error', reject)
          .end();
      });
    };
    const zipped = await raw('gzip');
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    assert.match(String(zipped.headers.vary), /Accept-Encoding/);
    assert.equal(samples(gunzipSync(zipped.body).toString()).get('probe_success'), 1);
    const plain = await raw('identity');
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(samples(plain.body.toString()).get('probe_success'), 1);
  });

  test('the landing page in a real browser shows modules, allowlists and recent probes, a hostile target as text', {
    timeout: 120_000,
  }, async (t) => {
    const binary = requireTool(t, 'chromium', 'apt-get install chromium');
    if (!binary) return;
    const hostile = '<script>document.title="owned"</script>';
    // A command module takes any string as its target (an http module answers 400 to one that is no host): the
    // allowlist refuses these, and the page shows them.
    assert.equal((await probe(`module=cmd&target=${encodeURIComponent(hostile)}`)).status, 403);
    assert.equal((await probe(`module=cmd&target=${'a'.repeat(1000)}.example`)).status, 403);
    assert.equal((await probe(`module=web&target=${target.host}`)).status, 200);
    assert.equal((await probe(`module=web&target=127.0.0.1:1`)).status, 200);

    const dom = await chromium(binary, ['--dump-dom', `${exporter.url}/`]);
    assert.match(dom, /<title>custom-exporter<\/title>/, 'the script did not run');
    assert.doesNotMatch(dom, /<script>/);
    assert.ok(dom.includes('&lt;script&gt;document.title="owned"&lt;/script&gt;'), 'the hostile target is text');
    assert.match(dom, /<h3>web<\/h3>\s*<ul class="allow"><li>cidrs: 127\.0\.0\.1\/32<\/li><\/ul>/);
    assert.match(dom, /<h3>named<\/h3>\s*<ul class="allow"><li>hosts: localhost<\/li><li>cidrs: 10\.0\.0\.0\/8<\/li><\/ul>/);
    assert.match(dom, /<h3>closed<\/h3>\s*<ul class="allow"><li>refuses every target \(no allow:\)<\/li><\/ul>/);
    assert.match(dom, new RegExp(`<td>${target.host.replaceAll('.', '\\.')}</td><td class="success">success</td>`));
    assert.match(dom, /<td>127\.0\.0\.1:1<\/td><td class="failure">failure<\/td><td>[\d.]+ s<\/td><td>[\dT:.Z-]+<\/td><td>.+<\/td>/);
    assert.match(dom, /<td class="refused">refused<\/td>/);
    assert.ok(!dom.includes('a'.repeat(200)), 'a long target is capped');
    assert.match(dom, /a{120}… \(1008 characters\)/);

    const png = join(await mkdtemp(join(tmpdir(), 'probe-status-')), 'landing.png');
    await chromium(binary, ['--window-size=1024,600', `--screenshot=${png}`, `${exporter.url}/`]);
    const image = await readFile(png);
    assert.equal(image.subarray(1, 4).toString(), 'PNG');
    assert.ok(image.length > 5000, `screenshot is ${image.length} bytes`);
  });
});

test('check-config warns about a module without allow:, naming it and the field; exit code unchanged', async () => {
  const file = await configFile(MODULES);
  const run = await runCli(['check-config', file]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, `warning: ${file}: modules[3].allow: module "closed" has no allow: it refuses every target\n`);
});
