import type { Middleware } from 'koa';
import { MAX_TIMEOUT_MS } from '../config/duration.ts';
import { contentType } from '../exposition/content-type.ts';
import type { ExpositionFormat } from '../exposition/format.ts';
import { negotiate } from '../exposition/negotiate.ts';

/** A collection written in one format that may be shared by concurrent scrapes, compressed at most once (by its owner). */
interface SharedExposition {
  readonly format: ExpositionFormat;
  readonly body: Buffer;
  gzip(): Promise<Buffer>;
}

export interface MetricsRouteOptions {
  /** Collects every metric within the budget and writes it in the format; rejects when collection fails as a whole. */
  readonly scrape: (timeoutMs: number, format: ExpositionFormat) => Promise<SharedExposition>;
  /** Budget when the scraper does not send X-Prometheus-Scrape-Timeout-Seconds. */
  readonly defaultTimeoutMs: number;
  /** Taken off the scraper's timeout so the answer arrives before it gives up. */
  readonly timeoutOffsetMs: number;
  readonly onScrape: (status: number) => void;
}

export function metricsRoute(options: MetricsRouteOptions): Middleware {
  return async (ctx) => {
    let type = 'text/plain; charset=utf-8';
    try {
      const format = negotiate(ctx.get('Accept'));
      const exposition = await options.scrape(scrapeBudget(ctx.get('X-Prometheus-Scrape-Timeout-Seconds'), options), format);
      ctx.status = 200;
      ctx.vary('Accept');
      ctx.vary('Accept-Encoding');
      if (ctx.acceptsEncodings('gzip', 'identity') === 'gzip') {
        ctx.body = await exposition.gzip();
        ctx.set('Content-Encoding', 'gzip');
      } else {
        ctx.body = exposition.body;
      }
      type = contentType(exposition.format);
    } catch (err) {
      ctx.status = 503;
      ctx.body = `error collecting metrics: ${err instanceof Error ? err.message : String(err)}\n`;
    }
    ctx.set('Content-Type', type);
    options.onScrape(ctx.status);
  };
}

/** The scraper's own timeout minus the offset when it sends one (as blackbox_exporter does), else the default. */
export function scrapeBudget(header: string, options: Pick<MetricsRouteOptions, 'defaultTimeoutMs' | 'timeoutOffsetMs'>): number {
  const seconds = Number.parseFloat(header);
  if (!Number.isFinite(seconds) || seconds <= 0) return options.defaultTimeoutMs;
  // Clamped: a huge header (1e10) would overflow Node's timers, which then fire at once (issue 11).
  const ms = Math.min(seconds * 1000, MAX_TIMEOUT_MS);
  return ms > options.timeoutOffsetMs ? ms - options.timeoutOffsetMs : ms;
}
