import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export type Handler = (req: IncomingMessage, body: string) => { status?: number; json?: unknown; text?: string } | 'hang';

export interface JsonTarget {
  readonly url: string;
  /** Requests per path so far. */
  hits(path: string): number;
  /** The last request to a path, with its body. */
  last(path: string): { headers: IncomingMessage['headers']; method: string; body: string } | undefined;
  close(): Promise<void>;
}

/** A real HTTP(S) server on 127.0.0.1 answering each path with its handler (404 otherwise). */
export async function startJsonTarget(routes: Record<string, Handler>, tls?: { cert: string; key: string }): Promise<JsonTarget> {
  const hits = new Map<string, number>();
  const lasts = new Map<string, { headers: IncomingMessage['headers']; method: string; body: string }>();
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      hits.set(path, (hits.get(path) ?? 0) + 1);
      lasts.set(path, { headers: req.headers, method: req.method ?? '', body });
      const answer = routes[path]?.(req, body) ?? { status: 404, text: 'not found' };
      if (answer === 'hang') return;
      res.writeHead(answer.status ?? 200, { 'content-type': answer.json === undefined ? 'text/plain' : 'application/json' });
      res.end(answer.json === undefined ? (answer.text ?? '') : JSON.stringify(answer.json));
    });
  };
  const server = tls ? createHttpsServer(tls, handle) : createHttpServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    hits: (path) => hits.get(path) ?? 0,
    last: (path) => lasts.get(path),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
