import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** What a TLS client presents: the CA it trusts and, when the server asks for one, its certificate. */
export interface TlsClient {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/** The status of one GET on a fresh connection (fetch cannot take a CA or client certificate; TLS options apply to https URLs). */
export function status(url: string, options: TlsClient & { headers?: Record<string, string> } = {}): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const send = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = send(url, { ...options, agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode!));
    });
    req.once('error', reject);
    req.end();
  });
}
