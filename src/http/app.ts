import Koa from 'koa';
import type { Logger } from '../logging.ts';
import { basicAuth } from './basic-auth.ts';
import { healthz, readyz } from './health-routes.ts';
import { type LandingPageOptions, landingPage } from './landing-page.ts';
import { reloadRoute } from './lifecycle-routes.ts';
import { type MetricsRouteOptions, metricsRoute } from './metrics-route.ts';
import { rateLimit } from './rate-limit.ts';
import { inFlightLimit, urlLimit } from './request-limits.ts';
import { type Route, routes } from './router.ts';
import type { RateLimit } from './web-config.ts';

const HEALTH_PATHS = new Set(['/healthz', '/readyz']);

export interface AppOptions extends Omit<LandingPageOptions, 'telemetryPath'> {
  readonly telemetryPath: string;
  /** The metrics endpoint at `telemetryPath`; absent when Prometheus is not among the exporters. */
  readonly metrics: MetricsRouteOptions | undefined;
  readonly isReady: () => boolean;
  /** Reloads the config file for POST /-/reload; undefined unless --web.enable-lifecycle (then 403). */
  readonly reload?: (() => Promise<boolean>) | undefined;
  /** Concurrent metrics requests allowed (0: unlimited). */
  readonly maxRequests: number;
  /** The web config's response headers and users, read per request (they reload). */
  readonly web: () => {
    readonly headers: Readonly<Record<string, string>>;
    readonly users: ReadonlyMap<string, string>;
    readonly rateLimit?: RateLimit | undefined;
  };
  /** Whether /healthz and /readyz need credentials too (kubelet probes usually have none). */
  readonly protectHealth: boolean;
  readonly logger: Logger;
}

export function createApp(options: AppOptions): Koa {
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
      options.logger.warn({ err: (err as Error).message, path: ctx.path, status: ctx.status }, 'request failed');
    }
    ctx.set(options.web().headers);
    ctx.set('X-Content-Type-Options', 'nosniff');
  });
  app.use(urlLimit);
  const unprotected = (path: string) => !options.protectHealth && HEALTH_PATHS.has(path);
  app.use(rateLimit(() => options.web().rateLimit, unprotected));
  app.use(basicAuth(() => options.web().users, unprotected, options.logger));
  app.use(
    routes(
      new Map<string, Route>([
        ['/', landingPage({ ...options, telemetryPath: options.metrics && options.telemetryPath })],
        ...(options.metrics
          ? [[options.telemetryPath, inFlightLimit(options.maxRequests, metricsRoute(options.metrics), options.metrics.onScrape)] as const]
          : []),
        ['/healthz', healthz],
        ['/readyz', readyz(options.isReady)],
        ['/-/reload', { post: reloadRoute(options.reload) }],
      ]),
    ),
  );
  return app;
}
