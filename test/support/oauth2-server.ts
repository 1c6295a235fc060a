import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OAuth2Client {
  readonly secret: string;
  /** expires_in of the tokens issued to this client, in seconds. */
  readonly lifetimeSeconds: number;
}

export interface TokenRequest {
  readonly clientId: string;
  readonly form: URLSearchParams;
}

export interface OAuth2Server {
  readonly url: string;
  /** Token requests that got a token, in order. */
  readonly issued: TokenRequest[];
  /** Requests to /data answered 401, per client. */
  refusals(clientId: string): number;
  /** Data requests answered 200, per client. */
  served(clientId: string): number;
  /** Forgets every token issued so far (a restarted authorization server): the next data request gets 401. */
  revokeAll(): void;
  close(): Promise<void>;
}

/**
 * An OAuth2 authorization server (client credentials grant, RFC 6749 §4.4, client authenticated with HTTP Basic,
 * §2.3.1) and a resource behind it: POST /token issues short-lived tokens; GET /data answers `{ "v": 1 }` to a
 * valid, unexpired token and 401 otherwise; GET /deny answers 401 whatever the token.
 */
export async function startOAuth2Server(clients: Record<string, OAuth2Client>): Promise<OAuth2Server> {
  const issued: TokenRequest[] = [];
  const tokens = new Map<string, { clientId: string; expires: number; revoked: boolean }>();
  const refusals = new Map<string, number>();
  const served = new Map<string, number>();
  let next = 0;
  const json = (res: ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
  const token = (req: IncomingMessage, body: string, res: ServerResponse) => {
    const [scheme, encoded] = (req.headers.authorization ?? '').split(' ');
    const [clientId, secret] = Buffer.from(encoded ?? '', 'base64')
      .toString()
      .split(':')
      .map(decodeURIComponent);
    const client = clients[clientId ?? ''];
    const form = new URLSearchParams(body);
    if (req.method !== 'POST' || req.headers['content-type'] !== 'application/x-www-form-urlencoded')
      return json(res, 400, { error: 'invalid_request' });
    if (scheme !== 'Basic' || client === undefined || client.secret !== secret) return json(res, 401, { error: 'invalid_client' });
    if (form.get('grant_type') !== 'client_credentials') return json(res, 400, { error: 'unsupported_grant_type' });
    issued.push({ clientId: clientId!, form });
    const value = `tok-${++next}`;
    tokens.set(value, { clientId: clientId!, expires: Date.now() + client.lifetimeSeconds * 1000, revoked: false });
    json(res, 200, { access_token: value, token_type: 'Bearer', expires_in: client.lifetimeSeconds });
  };
  const data = (req: IncomingMessage, res: ServerResponse, path: string) => {
    const [scheme, value] = (req.headers.authorization ?? '').split(' ');
    const known = scheme === 'Bearer' ? tokens.get(value ?? '') : undefined;
    if (known === undefined || known.revoked || known.expires <= Date.now() || path === '/deny') {
      const clientId = known?.clientId ?? 'unknown';
      refusals.set(clientId, (refusals.get(clientId) ?? 0) + 1);
      return json(res, 401, { error: 'invalid_token' });
    }
    served.set(known.clientId, (served.get(known.clientId) ?? 0) + 1);
    json(res, 200, { v: 1 });
  };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/token') return token(req, body, res);
      if (path === '/data' || path === '/deny') return data(req, res, path);
      json(res, 404, {});
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    issued,
    refusals: (clientId) => refusals.get(clientId) ?? 0,
    served: (clientId) => served.get(clientId) ?? 0,
    revokeAll: () => {
      for (const t of tokens.values()) t.revoked = true;
    },
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
