import { healthz, readyz } from './health-routes.ts';
import { type LandingPageOptions, landingPage } from './landing-page.ts';
import { reloadRoute } from './lifecycle-routes.ts';
import { type MetricsRouteOptions, metricsRoute } from './metrics-route.ts';
import { type ProbeRouteOptions, probeRoute } from './probe-route.ts';
import { inFlightLimit } from './request-limits.ts';
import type { Route } from './router.ts';

/** What the routes serve. */
export interface RouteContext {
  /** The landing page's name, version and sources. */
  readonly about: Omit<LandingPageOptions, 'telemetryPath'>;
  /** The metrics endpoint; absent when Prometheus is not among the exporters. */
  readonly metrics: MetricsEndpoint | undefined;
  /** GET /probe: the config's modules run against a target; without it /probe is not served (404). */
  readonly probes?: ProbeRouteOptions;
  readonly isReady: () => boolean;
  /** Reloads the config file for POST /-/reload; undefined unless --web.enable-lifecycle (then 403). */
  readonly reload: (() => Promise<boolean>) | undefined;
}

interface MetricsEndpoint extends MetricsRouteOptions {
  /** --web.telemetry-path: any path but the fixed ones below. */
  readonly path: string;
  /** Concurrent metrics requests allowed (0: unlimited). */
  readonly maxRequests: number;
}

interface FixedRoute {
  readonly path: string;
  /** A kubelet probe: served without credentials unless --web.protect-health-endpoints. */
  readonly probe?: true;
  route(context: RouteContext): Route;
}

// Every path besides the metrics endpoint, declared once: the app serves these, and --web.telemetry-path may not
// take one of them. The README's "HTTP endpoints" table lists them.
const FIXED_ROUTES: readonly FixedRoute[] = [
  { path: '/', route: (c) => landingPage({ ...c.about, telemetryPath: c.metrics?.path }) },
  { path: '/healthz', probe: true, route: () => healthz },
  { path: '/readyz', probe: true, route: (c) => readyz(c.isReady) },
  { path: '/-/reload', route: (c) => ({ post: reloadRoute(c.reload) }) },
];

/** Where the config's modules are run against a target (README, Probing many targets). */
const PROBE_PATH = '/probe';

/** The paths --web.telemetry-path cannot take. */
export const RESERVED_PATHS: readonly string[] = [...FIXED_ROUTES.map((r) => r.path), PROBE_PATH];

/** Whether `path` is a health probe's. */
export const isProbePath = (path: string): boolean => FIXED_ROUTES.some((r) => r.probe && r.path === path);

/** Path → route for the router. */
export function routeTable(context: RouteContext): ReadonlyMap<string, Route> {
  const table = new Map<string, Route>(FIXED_ROUTES.map((r) => [r.path, r.route(context)]));
  const { metrics } = context;
  if (context.probes) table.set(PROBE_PATH, probeRoute(context.probes));
  if (metrics) table.set(metrics.path, inFlightLimit(metrics.maxRequests, metricsRoute(metrics), metrics.onScrape));
  return table;
}
