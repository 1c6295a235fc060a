import type { Middleware } from 'koa';

/** A read-only endpoint (GET and HEAD; koa drops the body of a HEAD answer), or one that acts on POST. */
export type Route = Middleware | { readonly post: Middleware };

/** Exact-path routing for a handful of endpoints: other methods get 405 with Allow, unknown paths 404. */
export function routes(table: ReadonlyMap<string, Route>): Middleware {
  return async (ctx, next) => {
    const route = table.get(ctx.path);
    if (!route) {
      ctx.status = 404;
      ctx.body = 'not found\n';
      return;
    }
    const [allowed, handler] = typeof route === 'function' ? [['GET', 'HEAD'], route] : [['POST'], route.post];
    if (!allowed.includes(ctx.method)) {
      ctx.status = 405;
      ctx.set('Allow', allowed.join(', '));
      ctx.body = 'method not allowed\n';
      return;
    }
    await handler(ctx, next);
  };
}
