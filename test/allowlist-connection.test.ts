// The allowlist on the connections the HTTP client really makes: a name is judged by the addresses it resolved to
// (the ones connected to), and each redirect hop is judged before it is requested. Real local servers throughout.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { Allowlist, type AllowlistConfig } from '../src/probe/allowlist.ts';
import { CollectionError } from '../src/sources/collection-error.ts';
import { type AnswerRequest, fetchAnswer, RefusedConnection } from '../src/sources/untrusted/fetch-answer.ts';
import { makeTestPki } from './support/certs.ts';
import { startForwardProxy } from './support/forward-proxy.ts';
import { requireTool } from './support/tools.ts';

interface Target {
  readonly port: number;
  readonly paths: string[];
  readonly server: Server;
}

async function startTarget(answer: (path: string, res: ServerResponse) => void): Promise<Target> {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    answer(req.url ?? '', res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, paths, server };
}

let refused: Target;
let redirecting: Target;

before(async () => {
  refused = await startTarget((_path, res) => res.end('secret'));
  redirecting = await startTarget((path, res) => {
    if (path === '/away') res.writeHead(302, { location: `http://127.0.0.1:${refused.port}/metadata` }).end();
    else if (path === '/home') res.writeHead(302, { location: '/ok' }).end();
    else res.end('ok');
  });
});

after(() => {
  refused.server.close();
  redirecting.server.close();
});

function request(allow: AllowlistConfig | undefined, ca?: string, proxy?: URL): AnswerRequest {
  const allowlist = allow && new Allowlist(allow);
  return {
    ca,
    insecure: false,
    clientCertificate: undefined,
    proxy: proxy && (() => proxy),
    method: 'GET',
    headers: {},
    body: undefined,
    followRedirects: true,
    acceptStatus: [200],
    maxBodyBytes: 1024,
    allowConnection: allowlist && ((url, addresses) => allowlist.checkConnection(url, addresses)),
  };
}

const fetchText = async (url: string, allow: AllowlistConfig | undefined, ca?: string) =>
  Buffer.from(await fetchAnswer(url, request(allow, ca), AbortSignal.timeout(10_000), () => {})).toString();

/** The refusal, with the hop it happened at and the allowlist's reason in its message. */
const refusal = (hop: RefusedConnection['hop'], message: RegExp) => (err: unknown) => {
  assert.ok(err instanceof RefusedConnection, `a RefusedConnection, not ${String(err)}`);
  assert.ok(err instanceof CollectionError);
  assert.equal(err.reason, 'connection');
  assert.equal(err.hop, hop);
  assert.match(err.message, message);
  return true;
};

test('an allowed host name that resolves to an address outside the cidrs is refused before anything is sent', async () => {
  const before = refused.paths.length;
  await assert.rejects(
    fetchText(`http://localhost:${refused.port}/`, { hosts: ['localhost'], cidrs: ['10.0.0.0/8'] }),
    refusal('dns', /localhost resolves to (127\.0\.0\.1|::1), outside the allowed cidrs/),
  );
  assert.equal(refused.paths.length, before, 'the refused server got no request');
  // Positive control: the same name, with its addresses inside the cidrs, is fetched.
  assert.equal(await fetchText(`http://localhost:${refused.port}/`, { hosts: ['localhost'], cidrs: ['127.0.0.0/8', '::1/128'] }), 'secret');
  assert.equal(refused.paths.length, before + 1);
});

test('a kept-alive connection that one allowlist opened is not reused past another one', async () => {
  const url = `http://localhost:${refused.port}/`;
  // Plain requests first, as other sources make them, so the shared agent holds an open socket to this server.
  assert.equal(await fetchText(url, undefined), 'secret');
  assert.equal(await fetchText(url, { hosts: ['localhost'], cidrs: ['127.0.0.0/8', '::1/128'] }), 'secret');
  await assert.rejects(fetchText(url, { hosts: ['localhost'], cidrs: ['10.0.0.0/8'] }), refusal('dns', /outside the allowed cidrs/));
});

test('an IP literal outside the rules is refused without connecting (no DNS lookup to hook)', async () => {
  const before = refused.paths.length;
  await assert.rejects(
    fetchText(`http://127.0.0.1:${refused.port}/`, { cidrs: ['10.0.0.0/8'] }),
    refusal('target', /127\.0\.0\.1:\d+\/ is not in the module's allow list/),
  );
  assert.equal(refused.paths.length, before);
});

test('a redirect from an allowed server to a refused one fails at that hop', async () => {
  const allow = { urlPrefixes: [`http://127.0.0.1:${redirecting.port}/`] };
  const before = refused.paths.length;
  await assert.rejects(
    fetchText(`http://127.0.0.1:${redirecting.port}/away`, allow),
    refusal('redirect', /127\.0\.0\.1:\d+\/metadata is not in/),
  );
  assert.equal(refused.paths.length, before, 'the redirect target got no request');
  assert.ok(redirecting.paths.includes('/away'), 'the first hop was requested');
  // Positive control: a redirect that stays under the prefix is followed.
  assert.equal(await fetchText(`http://127.0.0.1:${redirecting.port}/home`, allow), 'ok');
});

test('a redirect to an allowed name that resolves outside the cidrs is refused at that hop', async () => {
  const bouncing = await startTarget((_path, res) => res.writeHead(307, { location: `http://localhost:${refused.port}/` }).end());
  try {
    const before = refused.paths.length;
    await assert.rejects(
      fetchText(`http://127.0.0.1:${bouncing.port}/`, {
        urlPrefixes: [`http://127.0.0.1:${bouncing.port}/`],
        hosts: ['localhost'],
        cidrs: ['10.0.0.0/8'],
      }),
      refusal('redirect', /localhost resolves to (127\.0\.0\.1|::1), outside the allowed cidrs/),
    );
    assert.equal(refused.paths.length, before);
  } finally {
    bouncing.server.close();
  }
});

test('without allowConnection (every existing http source) nothing is checked', async () => {
  assert.equal(await fetchText(`http://127.0.0.1:${redirecting.port}/away`, undefined), 'secret');
});

test('https: the name is judged by its addresses too (the lookup hook reaches the TLS connection)', async (t) => {
  const openssl = requireTool(t, 'openssl', 'apt-get install openssl');
  if (!openssl) return;
  const pki = makeTestPki(openssl);
  let requests = 0;
  const server = createHttpsServer({ cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) }, (_req, res) => {
    requests++;
    res.end('tls');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://localhost:${(server.address() as AddressInfo).port}/`;
  const ca = readFileSync(pki.caCert, 'utf8');
  try {
    await assert.rejects(fetchText(url, { hosts: ['localhost'], cidrs: ['10.0.0.0/8'] }, ca), refusal('dns', /localhost resolves to/));
    assert.equal(requests, 0);
    assert.equal(await fetchText(url, { hosts: ['localhost'], cidrs: ['127.0.0.0/8', '::1/128'] }, ca), 'tls');
    assert.equal(requests, 1);
  } finally {
    server.close();
  }
});

test('through a proxy, which resolves names itself, a name cannot be checked against cidrs and is refused', async () => {
  const proxy = await startForwardProxy({ 'shop.proxied.test:8080': `127.0.0.1:${refused.port}` });
  try {
    const fetchProxied = async (allow: AllowlistConfig) =>
      Buffer.from(
        await fetchAnswer(
          'http://shop.proxied.test:8080/',
          request(allow, undefined, new URL(proxy.url)),
          AbortSignal.timeout(10_000),
          () => {},
        ),
      ).toString();
    await assert.rejects(
      fetchProxied({ hosts: ['*.proxied.test'], cidrs: ['10.0.0.0/8'] }),
      refusal('target', /shop\.proxied\.test: cannot check the addresses it resolves to/),
    );
    assert.deepEqual(proxy.records, [], 'nothing reached the proxy');
    // Without cidrs, the host rule alone decides, and the request goes through the proxy.
    assert.equal(await fetchProxied({ hosts: ['*.proxied.test'] }), 'secret');
    assert.equal(proxy.records.length, 1);
  } finally {
    await proxy.close();
  }
});
