import Koa from 'koa';
import type { Logger } from '../logging.ts';
import { healthz, readyz } from './health-routes.ts';
import { landingPage, type LandingPageOptions } from './landing-page.ts';
import { metricsRoute, type MetricsRouteOptions } from './metrics-route.ts';
import { routes } from './router.ts';

export interface AppOptions extends MetricsRouteOptions, LandingPageOptions {
  readonly isReady: () => boolean;
  readonly logger: Logger;
}

export function createApp(options: AppOptions): Koa {
  const app = new Koa();
  app.silent = true;
  app.on('error', (err: Error) => options.logger.debug({ err: err.message }, 'request error'));
  app.use(async (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    await next();
  });
  app.use(
    routes(
      new Map([
        ['/', landingPage(options)],
        [options.telemetryPath, metricsRoute(options)],
        ['/healthz', healthz],
        ['/readyz', readyz(options.isReady)],
      ]),
    ),
  );
  return app;
}
