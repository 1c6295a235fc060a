import Koa from 'koa';
import type { Logger } from '../logging.ts';
import { basicAuth } from './basic-auth.ts';
import { rateLimit } from './rate-limit.ts';
import { urlLimit } from './request-limits.ts';
import { routes } from './router.ts';
import { isProbePath, type RouteContext, routeTable } from './routes.ts';
import type { RateLimit } from './web-config.ts';

/** Who may ask: the web config's response headers, users and rate limit (read per request: they reload), and the probes. */
export interface Access {
  readonly web: () => {
    readonly headers: Readonly<Record<string, string>>;
    readonly users: ReadonlyMap<string, string>;
    readonly rateLimit?: RateLimit | undefined;
  };
  /** Whether /healthz and /readyz need credentials too (kubelet probes usually have none). */
  readonly protectHealth: boolean;
}

export function createApp(context: RouteContext, access: Access, logger: Logger): Koa {
  const app = new Koa();
  app.silent = true;
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      // Never a stack trace or internals in a body: a status line, and the details in the log.
      const status = (err as { status?: number }).status;
      ctx.status = typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
      ctx.body = `${ctx.message}\n`;
      logger.warn({ err: (err as Error).message, path: ctx.path, status: ctx.status }, 'request failed');
    }
    ctx.set(access.web().headers);
    ctx.set('X-Content-Type-Options', 'nosniff');
  });
  app.use(urlLimit);
  const unprotected = (path: string) => !access.protectHealth && isProbePath(path);
  app.use(rateLimit(() => access.web().rateLimit, unprotected));
  app.use(basicAuth(() => access.web().users, unprotected, logger));
  app.use(routes(routeTable(context)));
  return app;
}
