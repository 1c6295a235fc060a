import type { Middleware } from 'koa';
import { MAX_TIMEOUT_MS } from '../config/duration.ts';

/** A serialized collection that may be shared by concurrent scrapes, compressed at most once (by its owner). */
interface SharedExposition {
  readonly body: Buffer;
  gzip(): Promise<Buffer>;
}

const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface MetricsRouteOptions {
  /** Collects and serializes every metric within the budget; rejects when collection fails as a whole. */
  readonly scrape: (timeoutMs: number) => Promise<SharedExposition>;
  /** Budget when the scraper does not send X-Prometheus-Scrape-Timeout-Seconds. */
  readonly defaultTimeoutMs: number;
  /** Taken off the scraper's timeout so the answer arrives before it gives up. */
  readonly timeoutOffsetMs: number;
  readonly onScrape: (status: number) => void;
}

export function metricsRoute(options: MetricsRouteOptions): Middleware {
  return async (ctx) => {
    try {
      const exposition = await options.scrape(scrapeBudget(ctx.get('X-Prometheus-Scrape-Timeout-Seconds'), options));
      ctx.status = 200;
      ctx.vary('Accept-Encoding');
      if (ctx.acceptsEncodings('gzip', 'identity') === 'gzip') {
        ctx.body = await exposition.gzip();
        ctx.set('Content-Encoding', 'gzip');
      } else {
        ctx.body = exposition.body;
      }
    } catch (err) {
      ctx.status = 503;
      ctx.body = `error collecting metrics: ${err instanceof Error ? err.message : String(err)}\n`;
    }
    ctx.set('Content-Type', ctx.status === 200 ? EXPOSITION_CONTENT_TYPE : 'text/plain; charset=utf-8');
    options.onScrape(ctx.status);
  };
}

/** The scraper's own timeout minus the offset when it sends one (as blackbox_exporter does), else the default. */
function scrapeBudget(header: string, options: Pick<MetricsRouteOptions, 'defaultTimeoutMs' | 'timeoutOffsetMs'>): number {
  const seconds = Number.parseFloat(header);
  if (!Number.isFinite(seconds) || seconds <= 0) return options.defaultTimeoutMs;
  // Clamped: a huge header (1e10) would overflow Node's timers, which then fire at once (issue 11).
  const ms = Math.min(seconds * 1000, MAX_TIMEOUT_MS);
  return ms > options.timeoutOffsetMs ? ms - options.timeoutOffsetMs : ms;
}
