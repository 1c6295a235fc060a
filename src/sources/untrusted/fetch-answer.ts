import { lookup as dnsLookup } from 'node:dns';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { pipeline, type Readable } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { urlToHttpOptions } from 'node:url';
import { createGunzip, createInflate } from 'node:zlib';
import { CollectionError } from '../collection-error.ts';
import type { ConnectionCheck } from '../source.ts';
import { formatSize } from './byte-size.ts';
import type { ClientCertificate } from './client-certificate.ts';
import { ownedBytes } from './owned-bytes.ts';
import { openTunnel, type ProxyRoute, proxyEndpoint, proxyName } from './proxy.ts';

/** Redirects followed before giving up, as json_exporter and blackbox_exporter do (Go's http.Client stops at 10). */
const MAX_REDIRECTS = 10;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** How a source reaches its targets: the same for its token requests (OAuth2) as for its target. */
export interface Transport {
  readonly ca: string | undefined;
  readonly insecure: boolean;
  /** Read before each request: a certificate rotated on disk is presented at once. */
  readonly clientCertificate: (() => Promise<ClientCertificate>) | undefined;
  readonly proxy: ProxyRoute | undefined;
}

export interface AnswerRequest extends Transport {
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
  /** The Authorization header, asked for at each request. */
  readonly credentials?: Credentials | undefined;
  /** Off: a redirect is the answer (its status then fails the collection unless accepted). */
  readonly followRedirects: boolean;
  /** Status codes whose body is read; a redirect listed here is not followed. */
  readonly acceptStatus: readonly number[];
  /** The most bytes of body, after decompression. */
  readonly maxBodyBytes: number;
  /**
   * Judges each connection (the first request and every redirect hop) with the addresses its host resolved to,
   * before anything is sent: a probe module's allowlist. Absent: nothing is checked.
   */
  readonly allowConnection?: ConnectionCheck | undefined;
}

/** A connection the allowlist refused; `hop` says where: the target itself, what its name resolved to, a redirect. */
export class RefusedConnection extends CollectionError {
  override name = 'RefusedConnection';
  readonly hop: 'target' | 'dns' | 'redirect';

  constructor(hop: RefusedConnection['hop'], url: URL, reason: string) {
    super('connection', `${url.href}: refused: ${reason}`);
    this.hop = hop;
  }
}

export interface Credentials {
  header(signal: AbortSignal): Promise<string>;
  /** The target answered 401 to `header`: whether a new one (an OAuth2 token) is worth one more request. */
  refused(header: string): boolean;
}

/**
 * Requests `url`, following redirects, and reads the answer's body (gzip or deflate decoded) up to
 * `maxBodyBytes`; `onStatus` sees each status code as soon as it arrives. The body is empty when the final status
 * is not accepted. With `credentials` that can be renewed (an OAuth2 token), a 401 gets one more request with a
 * new header. CollectionErrors: `connection` (no answer), `status` (a redirect loop), `too_large`, `parse` (a body
 * that does not decode). Aborted with `signal`.
 */
export async function fetchAnswer(
  url: string,
  req: AnswerRequest,
  signal: AbortSignal,
  onStatus: (status: number) => void,
): Promise<Uint8Array> {
  const { credentials } = req;
  if (credentials === undefined) return (await follow(url, req, signal, onStatus)).body;
  const authorized = async () => {
    const authorization = await credentials.header(signal);
    return { authorization, answer: await follow(url, { ...req, headers: { ...req.headers, authorization } }, signal, onStatus) };
  };
  const { authorization, answer } = await authorized();
  // Once only: a target that refuses every token must not make each collection a loop of token requests.
  if (answer.status === 401 && credentials.refused(authorization)) return (await authorized()).answer.body;
  return answer.body;
}

/** fetchAnswer's requests, without credentials to renew. */
async function follow(
  url: string,
  req: AnswerRequest,
  signal: AbortSignal,
  onStatus: (status: number) => void,
): Promise<{ status: number; body: Uint8Array }> {
  let target = new URL(url);
  let { method, body } = req;
  let headers = withAcceptEncoding(req.headers);
  for (let redirects = 0; ; redirects++) {
    const response = await send(target, { ...req, method, body, headers }, signal, redirects > 0);
    const status = response.statusCode ?? 0;
    onStatus(status);
    const location = response.headers.location;
    if (req.followRedirects && REDIRECTS.has(status) && location !== undefined && !req.acceptStatus.includes(status)) {
      response.destroy();
      if (redirects === MAX_REDIRECTS) throw new CollectionError('status', `${url}: more than ${MAX_REDIRECTS} redirects`);
      const next = new URL(location, target);
      if (next.protocol !== 'http:' && next.protocol !== 'https:')
        throw new CollectionError('status', `${url}: redirected to a ${next.protocol} URL`);
      // As browsers and Go do: 303 (and 301/302 after a POST) becomes a GET without a body.
      if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
      }
      // Credentials are for the origin they were configured for.
      if (next.origin !== target.origin) headers = withoutAuthorization(headers);
      target = next;
      continue;
    }
    if (!req.acceptStatus.includes(status)) {
      response.destroy();
      return { status, body: new Uint8Array(0) };
    }
    return { status, body: await readBody(response, url, req.maxBodyBytes, signal) };
  }
}

/**
 * One request; resolves at the answer's head. Through a proxy, an http target is asked with its absolute URI
 * (RFC 9112 §3.2.2) and an https one through a CONNECT tunnel, TLS to the target running inside it.
 */
async function send(target: URL, req: AnswerRequest, signal: AbortSignal, redirected: boolean): Promise<IncomingMessage> {
  const https = target.protocol === 'https:';
  const proxy = req.proxy?.(target);
  const allow = req.allowConnection && allowedConnection(target, req.allowConnection, proxy !== undefined, redirected);
  const certificate = https ? await req.clientCertificate?.() : undefined;
  const tls = { ca: req.ca, rejectUnauthorized: !req.insecure, ...certificate };
  const common = { ...urlToHttpOptions(target), method: req.method, headers: req.headers, signal };
  let options: RequestOptions;
  if (proxy === undefined) options = { ...common, ...(https && tls), ...allow };
  else if (!https) {
    const { host, port, headers } = proxyEndpoint(proxy);
    const path = `${target.protocol}//${target.host}${target.pathname}${target.search}`;
    options = {
      ...common,
      protocol: 'http:',
      host,
      hostname: host,
      port,
      path,
      headers: { host: target.host, ...req.headers, ...headers },
    };
  } else {
    const tunnel = await openTunnel(proxy, target, signal);
    // SNI carries names only (RFC 6066 §3).
    const servername = isIP(common.hostname ?? '') === 0 ? (common.hostname ?? undefined) : undefined;
    // The first request on this socket is the only one: each collection opens its own tunnel.
    const socket = tlsConnect({ ...tls, socket: tunnel, servername });
    options = { ...common, protocol: 'http:', headers: { host: target.host, ...req.headers }, createConnection: () => socket };
  }
  const through = proxy === undefined ? '' : ` (through ${proxyName(proxy)})`;
  return new Promise((resolve, reject) => {
    const request = (https && proxy === undefined ? httpsRequest : httpRequest)(options, resolve);
    request.on('error', (err) =>
      reject(
        signal.aborted || err instanceof RefusedConnection
          ? err
          : new CollectionError('connection', `${target.href}${through}: ${err.message}`, { cause: err }),
      ),
    );
    request.end(req.body);
  });
}

/**
 * Throws RefusedConnection when `target` itself is refused; else the request options that judge the addresses its
 * name resolves to inside the connection's own DNS lookup, so the address checked is the address connected to (no
 * check-then-connect race). A fresh connection each time (agent: false): a pooled socket would skip the lookup.
 * Through a proxy, the proxy resolves the name, and `allow` gets no addresses.
 */
function allowedConnection(
  target: URL,
  allow: NonNullable<AnswerRequest['allowConnection']>,
  proxied: boolean,
  redirected: boolean,
): Pick<RequestOptions, 'agent' | 'lookup'> {
  const literal = target.hostname.replace(/^\[(.*)\]$/, '$1');
  if (proxied || isIP(literal) !== 0) {
    const verdict = allow(target, proxied ? [] : [literal]);
    if (!verdict.allowed) throw new RefusedConnection(redirected ? 'redirect' : 'target', target, verdict.reason);
    return {};
  }
  const lookup: LookupFunction = (hostname, options, callback) =>
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      if (addresses.length === 0) return callback(Object.assign(new Error(`${hostname}: no addresses`), { code: 'ENOTFOUND' }), '', 0);
      const verdict = allow(
        target,
        addresses.map(({ address }) => address),
      );
      if (!verdict.allowed) return callback(new RefusedConnection(redirected ? 'redirect' : 'dns', target, verdict.reason), '', 0);
      if (options.all) return (callback as unknown as (err: null, all: typeof addresses) => void)(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  return { agent: false, lookup };
}

async function readBody(response: IncomingMessage, url: string, maxBytes: number, signal: AbortSignal): Promise<Uint8Array> {
  const encoding = (response.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  let decoded: Readable = response;
  if (encoding === 'gzip' || encoding === 'x-gzip' || encoding === 'deflate') {
    const decompress = encoding === 'deflate' ? createInflate() : createGunzip();
    // Errors of either end fail the read below; the callback only keeps them from being unhandled.
    pipeline(response, decompress, () => {});
    decoded = decompress;
  } else if (encoding !== 'identity') {
    response.destroy();
    throw new CollectionError('parse', `${url}: unsupported content-encoding ${JSON.stringify(encoding.slice(0, 40))}`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of decoded as AsyncIterable<Buffer>) {
      size += chunk.length;
      // Counted after decompression: a small gzip answer can expand a thousandfold.
      if (size > maxBytes)
        throw new CollectionError('too_large', `${url}: the answer is larger than maxBodySize (${formatSize(maxBytes)})`);
      chunks.push(chunk);
    }
  } catch (err) {
    response.destroy();
    decoded.destroy();
    if (err instanceof CollectionError || signal.aborted) throw err;
    // zlib's errors have codes such as Z_DATA_ERROR; anything else is the connection failing mid-answer.
    throw String((err as { code?: unknown }).code).startsWith('Z_')
      ? new CollectionError('parse', `${url}: the ${encoding} answer does not decode: ${(err as Error).message}`)
      : new CollectionError('connection', `${url}: ${(err as Error).message}`, { cause: err });
  }
  return ownedBytes(chunks);
}

function withAcceptEncoding(headers: Record<string, string>): Record<string, string> {
  const named = Object.keys(headers).some((name) => name.toLowerCase() === 'accept-encoding');
  return named ? headers : { ...headers, 'accept-encoding': 'gzip, deflate' };
}

function withoutAuthorization(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'authorization'));
}
