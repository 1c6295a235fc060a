import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Middleware } from 'koa';
import { contentType } from '../exposition/content-type.ts';
import type { ExpositionFormat } from '../exposition/format.ts';
import { negotiate } from '../exposition/negotiate.ts';
import { scrapeBudget } from './metrics-route.ts';

/** What GET /probe gets from the prober: the probe's metrics in the format, or a status and a one-line reason. */
type ProbeResult =
  | { readonly status: 200; readonly format: ExpositionFormat; readonly body: Buffer }
  | { readonly status: 400 | 403; readonly reason: string };

export interface ProbeRouteOptions {
  /** Runs one probe of `target` by `module`; `params` holds the other query parameters (the module picks its own). */
  readonly run: (
    module: string,
    target: string,
    params: Readonly<Record<string, string>>,
    timeoutMs: number,
    format: ExpositionFormat,
  ) => Promise<ProbeResult>;
  /** Probes in flight at once; more get 503 with Retry-After. */
  readonly maxConcurrent: number;
  /** Budget when the scraper does not send X-Prometheus-Scrape-Timeout-Seconds. */
  readonly defaultTimeoutMs: number;
  /** Taken off the scraper's timeout so the answer arrives before it gives up. */
  readonly timeoutOffsetMs: number;
}

const gzipAsync = promisify(gzip);

/** Tells the scraper when to try again once the probes in flight have had time to finish. */
const RETRY_AFTER_SECONDS = 1;

/** GET /probe?module=<name>&target=<target>[&<param>=…]: one probe, as blackbox_exporter's /probe. */
export function probeRoute(options: ProbeRouteOptions): Middleware {
  let inFlight = 0;
  return async (ctx) => {
    const refuse = (status: number, reason: string) => {
      ctx.status = status;
      ctx.set('Content-Type', 'text/plain; charset=utf-8');
      ctx.body = `${reason}\n`;
    };
    const query: Record<string, string> = {};
    for (const [name, value] of Object.entries(ctx.query)) {
      if (typeof value !== 'string') return refuse(400, `query parameter ${name} given more than once`);
      query[name] = value;
    }
    const { module, target, ...params } = query;
    if (!module) return refuse(400, 'missing query parameter module');
    if (!target) return refuse(400, 'missing query parameter target');
    if (inFlight >= options.maxConcurrent) {
      ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
      return refuse(503, `too many probes in flight (global.maxConcurrentProbes: ${options.maxConcurrent})`);
    }
    inFlight++;
    try {
      const format = negotiate(ctx.get('Accept'));
      const budget = scrapeBudget(ctx.get('X-Prometheus-Scrape-Timeout-Seconds'), options);
      const result = await options.run(module, target, params, budget, format);
      if (result.status !== 200) return refuse(result.status, result.reason);
      ctx.status = 200;
      ctx.vary('Accept');
      ctx.vary('Accept-Encoding');
      ctx.set('Content-Type', contentType(result.format));
      // As /metrics: Prometheus asks for gzip on every scrape, /probe answers included.
      if (ctx.acceptsEncodings('gzip', 'identity') === 'gzip') {
        ctx.body = await gzipAsync(result.body);
        ctx.set('Content-Encoding', 'gzip');
      } else {
        ctx.body = result.body;
      }
    } catch (err) {
      refuse(500, `probe failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      inFlight--;
    }
  };
}
