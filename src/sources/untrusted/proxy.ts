import { request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';
import { CollectionError } from '../collection-error.ts';
import { parseNoProxy } from './no-proxy.ts';

/** The `proxy` options of an http source (Prometheus' proxy_url, no_proxy, proxy_from_environment). */
export interface ProxySettings {
  readonly url?: string | undefined;
  readonly noProxy?: string | undefined;
  readonly fromEnvironment: boolean;
}

/** The proxy a request to `target` goes through, or undefined to connect directly. */
export type ProxyRoute = (target: URL) => URL | undefined;

/**
 * The route for `settings`; undefined when there is no proxy at all. From the environment as Go's
 * httpproxy.FromEnvironment reads it: HTTP_PROXY for http targets, HTTPS_PROXY for https ones (the upper-case name
 * first, then the lower-case one), NO_PROXY for the exceptions; a proxy given without a scheme is http://.
 * Throws, naming the variable, when one is set but unusable.
 */
export function proxyRoute(settings: ProxySettings, env: NodeJS.ProcessEnv = process.env): ProxyRoute | undefined {
  if (settings.fromEnvironment) {
    const variable = (name: string) => env[name] || env[name.toLowerCase()] || undefined;
    const http = environmentProxy('HTTP_PROXY', variable('HTTP_PROXY'));
    const https = environmentProxy('HTTPS_PROXY', variable('HTTPS_PROXY'));
    const noProxy = withName('NO_PROXY', () => parseNoProxy(variable('NO_PROXY') ?? ''));
    if (!http && !https) return undefined;
    return (target) => {
      const proxy = target.protocol === 'https:' ? https : http;
      return proxy && !noProxy(target.hostname, portOf(target)) ? proxy : undefined;
    };
  }
  if (settings.url === undefined) return undefined;
  const proxy = new URL(settings.url);
  const noProxy = parseNoProxy(settings.noProxy ?? '');
  return (target) => (noProxy(target.hostname, portOf(target)) ? undefined : proxy);
}

/** Where a request through `proxy` connects, and the Proxy-Authorization its URL's user info asks for. */
export function proxyEndpoint(proxy: URL): { host: string; port: number; headers: Record<string, string> } {
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return {
    host: proxy.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: Number(proxy.port || 80),
    headers: proxy.username === '' ? {} : { 'proxy-authorization': `Basic ${Buffer.from(credentials).toString('base64')}` },
  };
}

/** How the proxy is named in errors and logs: without its credentials. */
export const proxyName = (proxy: URL) => `proxy ${proxy.origin}`;

/** A tunnel to `target` through `proxy` (CONNECT, RFC 9110 §9.3.6): the socket TLS to the target is then started on. */
export function openTunnel(proxy: URL, target: URL, signal: AbortSignal): Promise<Socket> {
  const authority = `${target.hostname}:${portOf(target)}`;
  const { host, port, headers } = proxyEndpoint(proxy);
  return new Promise((resolve, reject) => {
    // Its own connection (agent: false): once tunnelled, a socket belongs to the target's TLS session.
    const request = httpRequest({
      host,
      port,
      method: 'CONNECT',
      path: authority,
      headers: { host: authority, ...headers },
      signal,
      agent: false,
    });
    request.once('connect', (answer, socket) => {
      if (answer.statusCode === 200) return resolve(socket);
      socket.destroy();
      reject(new CollectionError('connection', `${proxyName(proxy)} answered ${answer.statusCode} to CONNECT ${authority}`));
    });
    request.once('error', (err) =>
      reject(signal.aborted ? err : new CollectionError('connection', `${proxyName(proxy)}: ${err.message}`, { cause: err })),
    );
    request.end();
  });
}

function environmentProxy(name: string, value: string | undefined): URL | undefined {
  if (value === undefined) return undefined;
  return withName(name, () => {
    const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
    if (url.protocol !== 'http:') throw new Error(`only http:// proxies are supported, not ${url.protocol}//`);
    return url;
  });
}

function withName<T>(name: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    // The value itself may hold the proxy's password: only its name is shown.
    throw new Error(`proxy.fromEnvironment: ${name}: ${(err as Error).message.replace(/^Invalid URL.*/, 'not a URL')}`);
  }
}

const portOf = (url: URL) => url.port || (url.protocol === 'https:' ? '443' : '80');
