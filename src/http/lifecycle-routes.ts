import type { Middleware } from 'koa';

/**
 * POST /-/reload, as Prometheus has it: reloads the config file when the lifecycle API is enabled
 * (--web.enable-lifecycle), else 403. A file that cannot be applied answers 500 and the old config stays.
 */
export function reloadRoute(reload: (() => Promise<boolean>) | undefined): Middleware {
  return async (ctx) => {
    if (!reload) {
      ctx.status = 403;
      ctx.body = 'Lifecycle API is not enabled.\n';
      return;
    }
    const applied = await reload();
    ctx.status = applied ? 200 : 500;
    ctx.body = applied ? 'config reloaded\n' : 'config reload failed (the previous config stays; see the log)\n';
  };
}
