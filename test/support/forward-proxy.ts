import { createServer, request as httpRequest } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';

export interface ProxyRecord {
  /** `GET http://host:port/path` for a forwarded request, `CONNECT host:port` for a tunnel. */
  readonly line: string;
  readonly proxyAuthorization: string | undefined;
}

export interface ForwardProxy {
  /** `http://127.0.0.1:port` */
  readonly url: string;
  /** What went through it, in order. */
  readonly records: ProxyRecord[];
  close(): Promise<void>;
}

/**
 * A tiny forward proxy, as corporate networks have: absolute-URI requests (RFC 9112 §3.2.2) are forwarded, CONNECT
 * (RFC 9110 §9.3.6) opens a tunnel. `hosts` maps names only the proxy can resolve to `127.0.0.1:port`, so an answer
 * from such a name proves the request went through the proxy. `hang: true` never answers (a dead proxy).
 */
export async function startForwardProxy(hosts: Record<string, string> = {}, { hang = false } = {}): Promise<ForwardProxy> {
  const records: ProxyRecord[] = [];
  const sockets = new Set<Socket>();
  const resolve = (authority: string) => hosts[authority] ?? authority;
  const server = createServer((req, res) => {
    records.push({ line: `${req.method} ${req.url}`, proxyAuthorization: req.headers['proxy-authorization'] });
    if (hang) return;
    const target = new URL(req.url ?? '');
    const [host, port] = resolve(target.host).split(':');
    const { 'proxy-authorization': _, ...headers } = req.headers;
    const upstream = httpRequest({ host, port, method: req.method, path: `${target.pathname}${target.search}`, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    records.push({ line: `CONNECT ${req.url}`, proxyAuthorization: req.headers['proxy-authorization'] });
    if (hang) return;
    const [host, port] = resolve(req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    records,
    close: () =>
      new Promise((done) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => done());
      }),
  };
}
