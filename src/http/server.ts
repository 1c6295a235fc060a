import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type Koa from 'koa';
import type { Logger } from '../logging.ts';
import type { ListenAddress } from './listen-address.ts';
import { oneRequestAtATime } from './one-request-at-a-time.ts';
import { SERVER_LIMITS } from './request-limits.ts';
import { handleTlsClientErrors, type TlsClientErrors } from './tls-client-errors.ts';
import type { WebTls } from './web-config.ts';

export interface HttpServer {
  /** The bound address (the real port when 0 was asked for). */
  readonly address: AddressInfo;
  readonly tls: boolean;
  /** New certificates, key or client CA for connections from now on. */
  updateTls(tls: WebTls): void;
  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then cuts what is left. */
  close(graceMs: number): Promise<void>;
}

// Node closes a CONNECT without a word when nobody listens for it; answer like any other method we do not serve.
const CONNECT_ANSWER =
  'HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD, POST\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: 19\r\n\r\nmethod not allowed\n';

export async function listen(app: Koa, at: ListenAddress, tls: WebTls | undefined, logger: Logger): Promise<HttpServer> {
  const { socketTimeout, ...limits } = SERVER_LIMITS;
  const handler = oneRequestAtATime(app.callback());
  const server: Server = tls
    ? createHttpsServer(
        {
          ...limits,
          ...tls.context,
          requestCert: tls.clientAuth !== 'NoClientCert',
          // Refused in enforceClientAuth instead, where the refusal can be logged (Node's own is silent).
          rejectUnauthorized: false,
        },
        handler,
      )
    : createHttpServer(limits, handler);
  server.setTimeout(socketTimeout);
  server.on('connect', (_req, socket: Duplex) => socket.end(CONNECT_ANSWER));
  if (tls) {
    const errors = handleTlsClientErrors(server as HttpsServer, logger);
    server.on('secureConnection', (socket: TLSSocket) => enforceClientAuth(socket, tls, errors));
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    address: server.address() as AddressInfo,
    tls: tls !== undefined,
    updateTls(next) {
      if ('setSecureContext' in server) (server as unknown as { setSecureContext(o: object): void }).setSecureContext(next.context);
    },
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

// client_auth_type beyond "ask or not", which Node either cannot express or enforces without a word in the log.
function enforceClientAuth(socket: TLSSocket, tls: WebTls, errors: TlsClientErrors): void {
  if (tls.clientAuth === 'NoClientCert' || tls.clientAuth === 'RequestClientCert') return;
  const presented = Object.keys(socket.getPeerCertificate()).length > 0;
  const mustVerify = tls.clientAuth === 'RequireAndVerifyClientCert' || (tls.clientAuth === 'VerifyClientCertIfGiven' && presented);
  const refusal =
    !presented && tls.clientAuth !== 'VerifyClientCertIfGiven'
      ? `no client certificate (client_auth_type ${tls.clientAuth})`
      : mustVerify && !socket.authorized
        ? `client certificate not verified: ${socket.authorizationError}`
        : undefined;
  if (refusal === undefined) return;
  errors.refused(socket, refusal);
  socket.destroy();
}
