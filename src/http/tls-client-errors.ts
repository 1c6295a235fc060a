import type { Server } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../logging.ts';

// Go's answer to plain HTTP on a TLS port, so a misconfigured scraper (http:// instead of https://) sees why.
const PLAIN_HTTP_BODY = 'Client sent an HTTP request to an HTTPS server.\n';
const PLAIN_HTTP_ANSWER = `HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: ${PLAIN_HTTP_BODY.length}\r\n\r\n${PLAIN_HTTP_BODY}`;
// OpenSSL recognises an HTTP request line, or a proxy's CONNECT, where a TLS record should begin.
const PLAIN_HTTP_CODES = new Set(['ERR_SSL_HTTP_REQUEST', 'ERR_SSL_HTTPS_PROXY_REQUEST']);
// A client that goes away before the handshake ends (a TCP probe, a port scan) is routine, not a warning.
const DISCONNECT_CODES = new Set(['ECONNRESET', 'EPIPE']);

/** Lines about refused TLS clients per minute at most: a flood of bad handshakes must not flood the log. */
const TLS_ERROR_LOG_LINES_PER_MINUTE = 10;

/** What a TLS server does about clients it refuses: logs why (rate-limited), and answers plain HTTP with a 400. */
export interface TlsClientErrors {
  /** A client refused after the handshake (a client_auth_type rule Node cannot express): logged like the rest. */
  refused(socket: TLSSocket, reason: string): void;
}

export function handleTlsClientErrors(server: Server, logger: Logger): TlsClientErrors {
  const log = logBudget(logger, TLS_ERROR_LOG_LINES_PER_MINUTE, 60_000);
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

/** At most `lines` log lines per window; the first line after a full window says how many were left out. */
function logBudget(logger: Logger, lines: number, windowMs: number) {
  let windowStart = 0;
  let logged = 0;
  let suppressed = 0;
  return (level: 'debug' | 'warn', fields: Record<string, unknown>, msg: string) => {
    if (!logger.isLevelEnabled(level)) return;
    const now = Date.now();
    if (now - windowStart >= windowMs) {
      windowStart = now;
      logged = 0;
    }
    if (logged >= lines) {
      suppressed++;
      return;
    }
    logged++;
    logger[level](suppressed > 0 ? { ...fields, suppressed } : fields, msg);
    suppressed = 0;
  };
}
