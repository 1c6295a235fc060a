import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';

/** What a TLS client presents: the CA it trusts and, when the server asks for one, its certificate. */
export interface TlsClient {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** Milliseconds from sending the request to the end of the answer, connecting included. */
  readonly ms: number;
}

/**
 * One GET on a fresh connection, over TLS for https URLs with `options` (ca, cert, key, minVersion, headers …):
 * fetch can take neither a CA nor a client certificate, and would reuse connections.
 */
export function get(url: string, options: RequestOptions = {}): Promise<Answer> {
  const started = performance.now();
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { agent: false, ...options }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.once('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, ms: performance.now() - started }));
    });
    req.once('error', reject);
    req.end();
  });
}

/** The status of one GET (see get). */
export const status = async (url: string, options: RequestOptions = {}): Promise<number> => (await get(url, options)).status;
