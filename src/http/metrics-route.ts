import type { Middleware } from 'koa';
import { SourceSelectionError } from '../collector/source-selection-error.ts';
import { MAX_TIMEOUT_MS } from '../duration.ts';
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
  /**
   * Collects every metric (or only the named sources') within the budget and writes it in the format; rejects when
   * collection fails as a whole, or with SourceSelectionError for a name that is not a source.
   */
  readonly scrape: (timeoutMs: number, format: ExpositionFormat, sources: ReadonlySet<string> | undefined) => Promise<SharedExposition>;
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
      const sources = selectedSources(ctx.query.source);
      const format = negotiate(ctx.get('Accept'));
      const exposition = await options.scrape(scrapeBudget(ctx.get('X-Prometheus-Scrape-Timeout-Seconds'), options), format, sources);
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
      if (err instanceof SourceSelectionError) {
        ctx.status = 400;
        ctx.body = `${err.message}\n`;
      } else {
        ctx.status = 503;
        ctx.body = `error collecting metrics: ${err instanceof Error ? err.message : String(err)}\n`;
      }
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

/**
 * The sources `?source=a&source=b` selects (issue 13), each name once; undefined without the parameter (every
 * source). An empty value is refused rather than read as "none" or "all".
 */
function selectedSources(query: string | string[] | undefined): ReadonlySet<string> | undefined {
  if (query === undefined) return undefined;
  const names = typeof query === 'string' ? [query] : query;
  if (names.includes(''))
    throw new SourceSelectionError('empty source= parameter (name a source, or leave the parameter out for every source)');
  return new Set(names);
}
