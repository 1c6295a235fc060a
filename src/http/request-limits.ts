import type { Middleware } from 'koa';

/** Node's own limits on the HTTP server: a slow or oversized client cannot hold a socket or memory for long. */
export const SERVER_LIMITS = {
  /** Request line plus headers; larger gets 431. */
  maxHeaderSize: 8 * 1024,
  /** Time to receive all headers (slowloris). */
  headersTimeout: 10_000,
  /** Time to receive the whole request. */
  requestTimeout: 30_000,
  /** A socket with no traffic at all is closed after this. */
  socketTimeout: 120_000,
  /** How often Node checks the two timeouts above (its default of 30 s would let them run long). */
  connectionsCheckingInterval: 1000,
} as const;

const MAX_URL_LENGTH = 2048;

/** 414 for URLs longer than any route needs. */
export const urlLimit: Middleware = async (ctx, next) => {
  if (ctx.url.length > MAX_URL_LENGTH) {
    ctx.status = 414;
    ctx.body = 'URI too long\n';
    return;
  }
  await next();
};

/**
 * At most `max` requests in `inner` at once (0: unlimited); the rest get 503, as --web.max-requests does, and are
 * reported to `onRefused` (a refused scrape is still a scrape: custom_exporter_scrapes_total{code="503"}).
 */
export function inFlightLimit(max: number, inner: Middleware, onRefused: (status: number) => void = () => {}): Middleware {
  let inFlight = 0;
  return async (ctx, next) => {
    if (max > 0 && inFlight >= max) {
      ctx.status = 503;
      ctx.body = `too many concurrent requests (limit ${max})\n`;
      onRefused(ctx.status);
      return;
    }
    inFlight++;
    try {
      await inner(ctx, next);
    } finally {
      inFlight--;
    }
  };
}
