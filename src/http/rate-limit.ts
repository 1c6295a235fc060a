import type { Middleware } from 'koa';
import type { RateLimit } from './web-config.ts';

/**
 * exporter-toolkit's `rate_limit`: a token bucket holding `burst` requests, one more every `interval`; a request
 * finding it empty gets 429. One bucket for the whole server, as there. `current()` is read per request (the web
 * config reloads; a changed limit starts a full bucket). Paths that `exempt` names (the health endpoints, unless
 * they are protected) are never limited: a kubelet probe answered 429 would restart a healthy pod.
 */
export function rateLimit(current: () => RateLimit | undefined, exempt: (path: string) => boolean): Middleware {
  let bucket: { limit: RateLimit; tokens: number; at: number } | undefined;
  return async (ctx, next) => {
    const limit = current();
    if (limit === undefined || exempt(ctx.path)) return next();
    const now = performance.now();
    if (bucket?.limit !== limit) bucket = { limit, tokens: limit.burst, at: now };
    bucket.tokens = Math.min(limit.burst, bucket.tokens + (now - bucket.at) / limit.intervalMs);
    bucket.at = now;
    if (bucket.tokens < 1) {
      ctx.status = 429;
      ctx.set('Retry-After', String(Math.ceil(((1 - bucket.tokens) * limit.intervalMs) / 1000)));
      ctx.body = 'too many requests\n';
      return;
    }
    bucket.tokens -= 1;
    return next();
  };
}
