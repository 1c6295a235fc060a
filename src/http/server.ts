import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type Koa from 'koa';
import type { ListenAddress } from './listen-address.ts';
import { SERVER_LIMITS } from './request-limits.ts';
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

export async function listen(app: Koa, at: ListenAddress, tls: WebTls | undefined): Promise<HttpServer> {
  const { socketTimeout, ...limits } = SERVER_LIMITS;
  const server: Server = tls
    ? createHttpsServer(
        {
          ...limits,
          ...tls.context,
          requestCert: tls.clientAuth !== 'NoClientCert',
          rejectUnauthorized: tls.clientAuth === 'RequireAndVerifyClientCert',
        },
        app.callback(),
      )
    : createHttpServer(limits, app.callback());
  server.setTimeout(socketTimeout);
  if (tls) server.on('secureConnection', (socket: TLSSocket) => enforceClientAuth(socket, tls));
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

// The client_auth_type modes between "never ask" and "require a verified certificate", which Node has no option for.
function enforceClientAuth(socket: TLSSocket, tls: WebTls): void {
  const presented = Object.keys(socket.getPeerCertificate()).length > 0;
  if (tls.clientAuth === 'RequireAnyClientCert' && !presented) socket.destroy();
  if (tls.clientAuth === 'VerifyClientCertIfGiven' && presented && !socket.authorized) socket.destroy();
}
