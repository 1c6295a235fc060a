import type { Middleware } from 'koa';

/**
 * Exact-path routing for a handful of read-only endpoints: GET and HEAD are served (koa drops the body of
 * a HEAD answer), other methods get 405 with Allow, unknown paths 404.
 */
export function routes(table: ReadonlyMap<string, Middleware>): Middleware {
  return async (ctx, next) => {
    const handler = table.get(ctx.path);
    if (!handler) {
      ctx.status = 404;
      ctx.body = 'not found\n';
      return;
    }
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.status = 405;
      ctx.set('Allow', 'GET, HEAD');
      ctx.body = 'method not allowed\n';
      return;
    }
    await handler(ctx, next);
  };
}
