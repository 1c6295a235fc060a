import type { Server } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../logging.ts';
import { logBudget } from './log-budget.ts';

// Go's answer to plain HTTP on a TLS port, so a misconfigured scraper (http:// instead of https://) sees why.
const PLAIN_HTTP_BODY = 'Client sent an HTTP request to an HTTPS server.\n';
const PLAIN_HTTP_ANSWER = `HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: ${PLAIN_HTTP_BODY.length}\r\n\r\n${PLAIN_HTTP_BODY}`;
// OpenSSL recognises an HTTP request line, or a proxy's CONNECT, where a TLS record should begin.
const PLAIN_HTTP_CODES = new Set(['ERR_SSL_HTTP_REQUEST', 'ERR_SSL_HTTPS_PROXY_REQUEST']);
// A client that goes away before the handshake ends (a TCP probe, a port scan) is routine, not a warning.
const DISCONNECT_CODES = new Set(['ECONNRESET', 'EPIPE']);

/** What a TLS server does about clients it refuses: logs why (rate-limited), and answers plain HTTP with a 400. */
export interface TlsClientErrors {
  /** A client refused after the handshake (a client_auth_type rule Node cannot express): logged like the rest. */
  refused(socket: TLSSocket, reason: string): void;
}

export function handleTlsClientErrors(server: Server, logger: Logger): TlsClientErrors {
  const log = logBudget(logger);
  server.on('tlsClientError', (err: NodeJS.ErrnoException & { reason?: string }, socket: TLSSocket) => {
    const code = err.code ?? '';
    if (PLAIN_HTTP_CODES.has(code)) {
      // The TCP socket under the TLS one: what is written there goes out unencrypted, before Node closes it.
      (socket as TLSSocket & { _parent?: Socket })._parent?.end(PLAIN_HTTP_ANSWER);
    }
    const level = DISCONNECT_CODES.has(code) ? 'debug' : 'warn';
    log(level, { peer: peerOf(socket), code, err: err.reason ?? err.message }, 'TLS handshake failed');
  });
  return {
    refused: (socket, reason) => log('warn', { peer: peerOf(socket), err: reason }, 'TLS client refused'),
  };
}

function peerOf(socket: TLSSocket): string {
  return `${socket.remoteAddress}:${socket.remotePort}`;
}
