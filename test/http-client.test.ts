// The http source's client against real servers (issue 14): a forward proxy, a target that requires a client
// certificate, an OAuth2 authorization server, redirect chains; each through the built CLI, as it runs in production.
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { parseConfig } from '../src/config/load.ts';
import { builtinSources } from '../src/sources/registry.ts';
import { makeTestPki, type TestPki } from './support/certs.ts';
import { type ServingCli, serveCli } from './support/cli.ts';
import { assertConfigRejects, bothReject } from './support/config-error.ts';
import { eventually } from './support/eventually.ts';
import { startForwardProxy } from './support/forward-proxy.ts';
import { type JsonTarget, startJsonTarget } from './support/json-target.ts';
import { startOAuth2Server } from './support/oauth2-server.ts';
import { scrape } from './support/scrape.ts';
import { requireTool, toolPath } from './support/tools.ts';

const errors = (all: Map<string, number>, source: string, reason: string) =>
  all.get(`custom_exporter_source_errors_total{source="${source}",reason="${reason}"}`) ?? 0;

let dir: string;
let plain: JsonTarget;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'http-client-'));
  plain = await startJsonTarget({ '/v': () => ({ json: { v: 7 } }), '/w': () => ({ json: { v: 8 } }) });
});
after(() => plain.close());

/** What the running test started: closed after it, whatever its outcome, so that a failure cannot hang the file. */
const started: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of started.splice(0).reverse()) await close();
});

const closeServer = (server: Server) => {
  server.closeAllConnections();
  return new Promise<void>((done) => server.close(() => done()));
};

/** The built CLI serving the config `yaml`, killed after the test. */
async function serveConfig(name: string, yaml: string, env: NodeJS.ProcessEnv = {}): Promise<ServingCli> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, yaml);
  const cli = await serveCli([`--config.file=${file}`], { env });
  started.push(() => cli.kill());
  return cli;
}

/** A TLS target that answers only clients presenting a certificate signed by the test CA (mTLS). */
async function startMutualTlsTarget(pki: TestPki) {
  const server = createHttpsServer(
    {
      cert: await readFile(pki.serverCert),
      key: await readFile(pki.serverKey),
      ca: await readFile(pki.caCert),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"v": 42}'),
  );
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => closeServer(server),
  };
}

describe('http client: proxies', () => {
  test('proxy.url: HTTP as absolute-URI requests, HTTPS through CONNECT, with the proxy credentials; noProxy bypasses', async (t) => {
    const openssl = requireTool(t, 'openssl', 'apt-get install openssl');
    if (!openssl) return;
    const pki = makeTestPki(openssl);
    const secure = await startJsonTarget(
      { '/s': () => ({ json: { v: 42 } }) },
      { cert: await readFile(pki.serverCert, 'utf8'), key: await readFile(pki.serverKey, 'utf8') },
    );
    started.push(() => secure.close());
    const securePort = new URL(secure.url).port;
    const proxy = await startForwardProxy({ 'shop.proxied.test:8080': new URL(plain.url).host });
    started.push(() => proxy.close());
    const proxyUrl = `http://scraper:pa55@${new URL(proxy.url).host}`;
    const cli = await serveConfig(
      'proxy',
      [
        'sources:',
        `  - { kind: http, name: proxied, url: "http://shop.proxied.test:8080/v", proxy: { url: "${proxyUrl}" }, metrics: [{ name: proxied_v, path: $.v }] }`,
        `  - { kind: http, name: tunnelled, url: "https://localhost:${securePort}/s", tls: { caFile: ${pki.caCert} }, proxy: { url: "${proxyUrl}" }, metrics: [{ name: tunnelled_v, path: $.v }] }`,
        `  - { kind: http, name: bypassed, url: "${plain.url}/w", proxy: { url: "${proxyUrl}", noProxy: "example.com, .internal, 10.0.0.0/8, 127.0.0.0/8" }, metrics: [{ name: bypassed_v, path: $.v }] }`,
        `  - { kind: http, name: unverified, url: "https://localhost:${securePort}/s", proxy: { url: "${proxyUrl}" }, metrics: [{ name: unverified_v, path: $.v }] }`,
      ].join('\n'),
    );
    const all = (await scrape(cli.url)).samples;
    assert.equal(all.get('proxied_v'), 7, 'a name only the proxy resolves');
    assert.equal(all.get('tunnelled_v'), 42, 'TLS to the target, verified with the CA, inside the tunnel');
    assert.equal(all.get('bypassed_v'), 8);
    assert.equal(errors(all, 'unverified', 'connection'), 1, "the target's certificate is checked through the tunnel too");
    const authorization = `Basic ${Buffer.from('scraper:pa55').toString('base64')}`;
    assert.deepEqual(
      proxy.records.toSorted((a, b) => a.line.localeCompare(b.line)),
      [
        { line: `CONNECT localhost:${securePort}`, proxyAuthorization: authorization },
        { line: `CONNECT localhost:${securePort}`, proxyAuthorization: authorization },
        { line: 'GET http://shop.proxied.test:8080/v', proxyAuthorization: authorization },
      ],
    );
    assert.equal(plain.hits('/w'), 1, 'the noProxy target was asked directly');
    assert.doesNotMatch(cli.stderr(), /pa55/, 'the proxy password is not logged');
  });

  test('proxy.fromEnvironment: HTTP_PROXY, HTTPS_PROXY (without a scheme) and NO_PROXY when asked, and only then', async (t) => {
    const openssl = requireTool(t, 'openssl', 'apt-get install openssl');
    if (!openssl) return;
    const pki = makeTestPki(openssl);
    const secure = await startJsonTarget(
      { '/s': () => ({ json: { v: 42 } }) },
      { cert: await readFile(pki.serverCert, 'utf8'), key: await readFile(pki.serverKey, 'utf8') },
    );
    started.push(() => secure.close());
    const securePort = new URL(secure.url).port;
    const proxy = await startForwardProxy({ 'shop.proxied.test:8080': new URL(plain.url).host });
    started.push(() => proxy.close());
    const before = plain.hits('/v');
    const cli = await serveConfig(
      'proxy-env',
      [
        'sources:',
        '  - { kind: http, name: proxied, url: "http://shop.proxied.test:8080/w", proxy: { fromEnvironment: true }, metrics: [{ name: proxied_v, path: $.v }] }',
        `  - { kind: http, name: excluded, url: "${plain.url}/v", proxy: { fromEnvironment: true }, metrics: [{ name: excluded_v, path: $.v }] }`,
        `  - { kind: http, name: unasked, url: "${plain.url}/v", metrics: [{ name: unasked_v, path: $.v }] }`,
        `  - { kind: http, name: tunnelled, url: "https://localhost:${securePort}/s", tls: { caFile: ${pki.caCert} }, proxy: { fromEnvironment: true }, metrics: [{ name: tunnelled_v, path: $.v }] }`,
      ].join('\n'),
      { HTTP_PROXY: proxy.url, HTTPS_PROXY: new URL(proxy.url).host, NO_PROXY: '127.0.0.1' },
    );
    const all = (await scrape(cli.url)).samples;
    assert.equal(all.get('proxied_v'), 8);
    assert.equal(all.get('excluded_v'), 7);
    assert.equal(all.get('unasked_v'), 7);
    assert.equal(all.get('tunnelled_v'), 42);
    assert.deepEqual(proxy.records.map((r) => r.line).toSorted(), [
      `CONNECT localhost:${securePort}`,
      'GET http://shop.proxied.test:8080/w',
    ]);
    assert.equal(plain.hits('/v') - before, 2, 'NO_PROXY and the default (no proxy) go direct');
  });

  test('a proxy that never answers, and a token endpoint that never answers, are cut at the source timeout', async () => {
    const proxy = await startForwardProxy({}, { hang: true });
    started.push(() => proxy.close());
    const silent = createServer(() => {});
    started.push(() => closeServer(silent));
    await new Promise<void>((done) => silent.listen(0, '127.0.0.1', done));
    const silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const cli = await serveConfig(
      'hang',
      [
        'sources:',
        `  - { kind: http, name: dead_proxy, url: "${plain.url}/v", proxy: { url: "${proxy.url}" }, timeout: 500ms, metrics: [{ name: a, path: $.v }] }`,
        `  - { kind: http, name: dead_tunnel, url: "https://localhost:1/v", proxy: { url: "${proxy.url}" }, timeout: 500ms, metrics: [{ name: b, path: $.v }] }`,
        `  - { kind: http, name: dead_token, url: "${plain.url}/v", timeout: 500ms, auth: { oauth2: { clientId: c, clientSecret: { value: s }, tokenUrl: "${silentUrl}/token" } }, metrics: [{ name: c, path: $.v }] }`,
        `  - { kind: http, name: healthy, url: "${plain.url}/v", metrics: [{ name: healthy_v, path: $.v }] }`,
      ].join('\n'),
    );
    const begun = performance.now();
    const all = (await scrape(cli.url)).samples;
    // Generous: the contract is the 500 ms timeout, not how fast this machine is.
    assert.ok(performance.now() - begun < 5000, `scrape took ${performance.now() - begun} ms`);
    assert.equal(all.get('healthy_v'), 7);
    for (const source of ['dead_proxy', 'dead_tunnel', 'dead_token']) assert.equal(errors(all, source, 'timeout'), 1, source);
  });

  test('an unusable HTTPS_PROXY or NO_PROXY fails check-config and start alike, without showing the proxy password', async () => {
    const file = join(dir, 'env-proxy.yaml');
    await writeFile(
      file,
      'sources:\n  - { kind: http, url: "https://127.0.0.1:9/x", proxy: { fromEnvironment: true }, metrics: [{ name: a, path: $.v }] }\n',
    );
    const socks = await bothReject(
      file,
      /sources\[0\]\.proxy\.fromEnvironment: HTTPS_PROXY: only http:\/\/ proxies are supported, not socks5:\/\//,
      {
        HTTPS_PROXY: 'socks5://user:pr0xy-pw@proxy.example:1080',
      },
    );
    assert.doesNotMatch(socks.check.stderr + socks.start.stderr, /pr0xy-pw/);
    await bothReject(file, /sources\[0\]\.proxy\.fromEnvironment: NO_PROXY: "10\.0\.0\.0\/40" is not a CIDR block/, {
      HTTPS_PROXY: 'http://proxy.example:3128',
      NO_PROXY: 'localhost,10.0.0.0/40',
    });
  });
});

describe('http client: client certificate (mTLS)', () => {
  test('certFile/keyFile answer the certificate request; without one, or with a stranger, the handshake fails; rotated files are read again', async (t) => {
    const openssl = requireTool(t, 'openssl', 'apt-get install openssl');
    if (!openssl) return;
    const pki = makeTestPki(openssl);
    const target = await startMutualTlsTarget(pki);
    started.push(() => target.close());
    const certFile = join(dir, 'client.crt');
    const keyFile = join(dir, 'client.key');
    await copyFile(pki.clientCert, certFile);
    await copyFile(pki.clientKey, keyFile);
    const cli = await serveConfig(
      'mtls',
      [
        'sources:',
        `  - { kind: http, name: mine, url: "${target.url}/v", tls: { caFile: ${pki.caCert}, certFile: ${certFile}, keyFile: ${keyFile} }, metrics: [{ name: mine_v, path: $.v }] }`,
        `  - { kind: http, name: none, url: "${target.url}/v", tls: { caFile: ${pki.caCert} }, metrics: [{ name: none_v, path: $.v }] }`,
        `  - { kind: http, name: stranger, url: "${target.url}/v", tls: { caFile: ${pki.caCert}, certFile: ${pki.strangerCert}, keyFile: ${pki.strangerKey} }, metrics: [{ name: stranger_v, path: $.v }] }`,
      ].join('\n'),
    );
    let all = (await scrape(cli.url)).samples;
    assert.equal(all.get('mine_v'), 42);
    assert.equal(errors(all, 'none', 'connection'), 1);
    assert.equal(errors(all, 'stranger', 'connection'), 1);
    // Rotated to a certificate the target does not trust: the next collection presents it.
    await copyFile(pki.strangerCert, certFile);
    await copyFile(pki.strangerKey, keyFile);
    all = (await scrape(cli.url)).samples;
    assert.equal(errors(all, 'mine', 'connection'), 1, 'the rotated certificate is used');
    await copyFile(pki.clientCert, certFile);
    await copyFile(pki.clientKey, keyFile);
    all = (await scrape(cli.url)).samples;
    assert.equal(all.get('mine_v'), 42, 'and rotated back');
  });

  test('certFile and keyFile come together; a key that does not match the certificate fails the collection, naming both', async (t) => {
    assertConfigRejects(
      `sources:\n  - { kind: http, url: "https://127.0.0.1/", tls: { certFile: ${join(dir, 'nothing.crt')} }, metrics: [{ name: a, path: $.v }] }\n`,
      /sources\.yaml:2:\d+: sources\[0\]\.tls\.certFile: cannot read .*nothing\.crt: ENOENT/,
    );
    await writeFile(join(dir, 'lonely.crt'), 'x');
    assertConfigRejects(
      `sources:\n  - { kind: http, url: "https://127.0.0.1/", tls: { certFile: ${join(dir, 'lonely.crt')} }, metrics: [{ name: a, path: $.v }] }\n`,
      /sources\.yaml:2:\d+: sources\[0\]\.tls: give both certFile and keyFile, or neither/,
    );
    const openssl = toolPath('openssl') ?? requireTool(t, 'openssl', 'apt-get install openssl');
    if (!openssl) return;
    const pki = makeTestPki(openssl);
    const target = await startMutualTlsTarget(pki);
    started.push(() => target.close());
    const cli = await serveConfig(
      'mismatch',
      `sources:\n  - { kind: http, name: mismatched, url: "${target.url}/v", tls: { caFile: ${pki.caCert}, certFile: ${pki.clientCert}, keyFile: ${pki.strangerKey} }, metrics: [{ name: a, path: $.v }] }\n`,
    );
    assert.equal(errors((await scrape(cli.url)).samples, 'mismatched', 'connection'), 1);
    const line = await cli.waitForLog((l) => l.msg === 'source collection failed');
    assert.match(String(line.err), /tls\.certFile .*client\.crt and tls\.keyFile .*stranger\.key: .*key values mismatch/);
  });
});

describe('http client: OAuth2 client credentials', () => {
  test('a token is fetched once and reused, refreshed before it expires, fetched again once on 401; failures are status errors', async () => {
    const server = await startOAuth2Server({
      steady: { secret: 'st3ady/secret', lifetimeSeconds: 3600 },
      brief: { secret: 'br1ef', lifetimeSeconds: 4 },
      denied: { secret: 'd', lifetimeSeconds: 3600 },
    });
    started.push(() => server.close());
    await writeFile(join(dir, 'steady-secret'), 'st3ady/secret\n');
    const oauth2 = (clientId: string, secret: string, extra = '') =>
      `auth: { oauth2: { clientId: ${clientId}, clientSecret: ${secret}, tokenUrl: "${server.url}/token"${extra} } }`;
    const cli = await serveConfig(
      'oauth2',
      [
        'sources:',
        `  - { kind: http, name: steady, url: "${server.url}/data", ${oauth2('steady', `{ file: ${join(dir, 'steady-secret')} }`, ', scopes: [metrics.read, metrics.list], endpointParams: { audience: shop }')}, metrics: [{ name: steady_v, path: $.v }] }`,
        `  - { kind: http, name: brief, url: "${server.url}/data", ${oauth2('brief', '{ env: BRIEF_SECRET }')}, metrics: [{ name: brief_v, path: $.v }] }`,
        `  - { kind: http, name: denied, url: "${server.url}/deny", ${oauth2('denied', '{ value: d }')}, metrics: [{ name: denied_v, path: $.v }] }`,
        `  - { kind: http, name: wrong, url: "${server.url}/data", ${oauth2('steady', '{ value: n0t-it }')}, metrics: [{ name: wrong_v, path: $.v }] }`,
      ].join('\n'),
      { BRIEF_SECRET: 'br1ef' },
    );
    const issuedTo = (clientId: string) => server.issued.filter((r) => r.clientId === clientId);
    let all = (await scrape(cli.url)).samples;
    assert.equal(all.get('steady_v'), 1);
    assert.equal(all.get('brief_v'), 1);
    const [first] = issuedTo('steady');
    assert.equal(first?.form.get('scope'), 'metrics.read metrics.list');
    assert.equal(first?.form.get('audience'), 'shop');
    assert.equal(errors(all, 'denied', 'status'), 1);
    assert.equal(issuedTo('denied').length, 2, 'a 401 gets one new token, then the collection fails');
    assert.equal(server.refusals('denied'), 2);
    assert.equal(errors(all, 'wrong', 'status'), 1, 'the token endpoint refused the client');
    const refused = await cli.waitForLog((l) => l.source === 'wrong' && l.msg === 'source collection failed');
    assert.match(String(refused.err), /token endpoint .*\/token answered 401 \(invalid_client\)/);

    for (let i = 0; i < 2; i++) assert.equal((await scrape(cli.url)).samples.get('steady_v'), 1);
    assert.equal(issuedTo('steady').length, 1, 'the token is reused (wrong was refused one)');
    assert.equal(server.served('steady'), 3);

    server.revokeAll();
    const briefRefusals = server.refusals('brief');
    all = (await scrape(cli.url)).samples;
    assert.equal(all.get('steady_v'), 1, 'a revoked token: 401, a new token, the request again');
    assert.equal(server.refusals('steady'), 1);
    assert.equal(issuedTo('steady').length, 2);

    // brief's tokens live 4 s and are kept 2 s: each is replaced before it runs out (2 s to spare on a slow machine),
    // so the target never sees an expired one.
    const briefIssued = issuedTo('brief').length;
    await eventually(
      async () => {
        assert.equal((await scrape(cli.url)).samples.get('brief_v'), 1);
        assert.ok(issuedTo('brief').length >= briefIssued + 2, `${issuedTo('brief').length - briefIssued} more tokens`);
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    assert.equal(server.refusals('brief') - briefRefusals, 1, 'only the revoked token was refused');
    for (const secret of ['st3ady/secret', 'br1ef', 'n0t-it']) assert.ok(!cli.stderr().includes(secret), `${secret} is not logged`);
  });

  test("the README's http example is valid with its oauth2 alternative in place of basic", async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const example = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)]
      .map((m) => m[1]!)
      .find((y) => /kind: http\n/.test(y) && /# oauth2: /.test(y));
    const oauth2 = /^(\s*)# (oauth2: .*)$/m.exec(example ?? '');
    assert.ok(example && oauth2, 'the example and its oauth2 line');
    const yaml = example.replace(/^\s*basic: .*$/m, `${oauth2[1]}${oauth2[2]}`);
    for (const [, path] of yaml.matchAll(/(?:\bfile|caFile|certFile|keyFile): ([\w./-]+)/g)) {
      await mkdir(dirname(join(dir, 'readme', path!)), { recursive: true });
      await writeFile(join(dir, 'readme', path!), 'x\n');
    }
    const source = parseConfig(yaml, join(dir, 'readme', 'README.md'), builtinSources).sources[0]!;
    assert.deepEqual(source.options.auth, {
      oauth2: {
        clientId: 'exporter',
        clientSecret: { file: join(dir, 'readme', 'secrets/shop-client-secret') },
        tokenUrl: 'https://login.internal/oauth2/token',
        scopes: ['metrics.read'],
        endpointParams: { audience: 'shop' },
      },
    });
  });

  test('oauth2 and proxy fields are checked: a tokenUrl, a clientSecret, one auth method, an http proxy, a valid noProxy', () => {
    assertConfigRejects(
      'sources:\n  - { kind: http, url: "http://127.0.0.1/", auth: { oauth2: { clientId: a, clientSecret: { value: b }, tokenUrl: "ftp://x" } }, metrics: [{ name: a, path: $.v }] }\n',
      /sources\.yaml:2:\d+: sources\[0\]\.auth\.oauth2\.tokenUrl: must be an http:\/\/ or https:\/\/ URL/,
    );
    assertConfigRejects(
      'sources:\n  - { kind: http, url: "http://127.0.0.1/", auth: { oauth2: { clientId: a, tokenUrl: "http://x/" } }, metrics: [{ name: a, path: $.v }] }\n',
      /sources\.yaml:2:\d+: sources\[0\]\.auth\.oauth2\.clientSecret: /,
    );
    assertConfigRejects(
      'sources:\n  - { kind: http, url: "http://127.0.0.1/", auth: { bearer: { value: b }, oauth2: { clientId: a, clientSecret: { value: b }, tokenUrl: "http://x/" } }, metrics: [{ name: a, path: $.v }] }\n',
      /sources\.yaml:2:\d+: sources\[0\]\.auth: give exactly one of basic, bearer or oauth2/,
    );
    assertConfigRejects(
      'sources:\n  - { kind: http, url: "http://127.0.0.1/", proxy: { noProxy: example.com }, metrics: [{ name: a, path: $.v }] }\n',
      /sources\.yaml:2:\d+: sources\[0\]\.proxy: give url, or fromEnvironment: true/,
    );
    assertConfigRejects(
      'sources:\n  - { kind: http, url: "http://127.0.0.1/", proxy: { url: "http://p:3128", fromEnvironment: true }, metrics: [{ name: a, path: $.v }] }\n',
      /sources\.yaml:2:\d+: sources\[0\]\.proxy: give either url \(and noProxy\) or fromEnvironment/,
    );
    assertConfigRejects(
      'sources:\n  - { kind: http, url: "http://127.0.0.1/", proxy: { url: "socks5://p:1080" }, metrics: [{ name: a, path: $.v }] }\n',
      /sources\.yaml:2:\d+: sources\[0\]\.proxy\.url: must be an http:\/\/ URL/,
    );
    assertConfigRejects(
      'sources:\n  - { kind: http, url: "http://127.0.0.1/", proxy: { url: "http://p:3128", noProxy: "10.0.0.0/33" }, metrics: [{ name: a, path: $.v }] }\n',
      /sources\.yaml:2:\d+: sources\[0\]\.proxy\.noProxy: "10\.0\.0\.0\/33" is not a CIDR block/,
    );
  });
});

describe('http client: redirects', () => {
  test('the eleventh redirect fails with reason status and says so in the log; followRedirects: false stops at the first', async () => {
    const hops = createServer((req, res) => {
      const left = Number(new URL(req.url ?? '/', 'http://x').pathname.slice(1));
      if (left === 0) return res.writeHead(200, { 'content-type': 'application/json' }).end('{"v": 3}');
      res.writeHead(302, { location: `/${left - 1}` }).end();
    });
    started.push(() => closeServer(hops));
    await new Promise<void>((done) => hops.listen(0, '127.0.0.1', done));
    const hopsUrl = `http://127.0.0.1:${(hops.address() as AddressInfo).port}`;
    const cli = await serveConfig(
      'redirects',
      [
        'sources:',
        `  - { kind: http, name: ten, url: "${hopsUrl}/10", metrics: [{ name: ten_v, path: $.v }] }`,
        `  - { kind: http, name: eleven, url: "${hopsUrl}/11", metrics: [{ name: eleven_v, path: $.v }] }`,
        `  - { kind: http, name: unfollowed, url: "${hopsUrl}/1", followRedirects: false, metrics: [{ name: unfollowed_v, path: $.v }] }`,
      ].join('\n'),
    );
    const all = (await scrape(cli.url)).samples;
    assert.equal(all.get('ten_v'), 3);
    assert.equal(errors(all, 'eleven', 'status'), 1);
    assert.equal(errors(all, 'unfollowed', 'status'), 1);
    assert.equal(all.get('custom_exporter_http_status_code{source="unfollowed"}'), 302);
    const line = await cli.waitForLog((l) => l.source === 'eleven' && l.msg === 'source collection failed');
    assert.match(String(line.err), /\/11: more than 10 redirects/);
    const unfollowed = await cli.waitForLog((l) => l.source === 'unfollowed' && l.msg === 'source collection failed');
    assert.match(String(unfollowed.err), /\/1 answered 302/);
  });
});
