import Koa from 'koa';
import type { Logger } from '../logging.ts';
import { healthz, readyz } from './health-routes.ts';
import { landingPage, type LandingPageOptions } from './landing-page.ts';
import { metricsRoute, type MetricsRouteOptions } from './metrics-route.ts';
import { routes } from './router.ts';

export interface AppOptions extends Omit<LandingPageOptions, 'telemetryPath'> {
  readonly telemetryPath: string;
  /** The metrics endpoint at `telemetryPath`; absent when Prometheus is not among the exporters. */
  readonly metrics: MetricsRouteOptions | undefined;
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
        ['/', landingPage({ ...options, telemetryPath: options.metrics && options.telemetryPath })],
        ...(options.metrics ? [[options.telemetryPath, metricsRoute(options.metrics)] as const] : []),
        ['/healthz', healthz],
        ['/readyz', readyz(options.isReady)],
      ]),
    ),
  );
  return app;
}
