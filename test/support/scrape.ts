import assert from 'node:assert/strict';
import { samples } from './exposition.ts';

export interface Scrape {
  readonly body: string;
  /** `name{labels}` → value. */
  readonly samples: Map<string, number>;
}

/**
 * GET /metrics of the exporter at `url`, as a scraper would (`headers` such as X-Prometheus-Scrape-Timeout-Seconds),
 * given up after `timeoutMs` when set. Anything but 200 fails the test: a failing source must never fail the scrape.
 */
export async function scrape(
  url: string,
  { headers = {}, timeoutMs }: { headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Scrape> {
  const res = await fetch(`${url}/metrics`, { headers, ...(timeoutMs !== undefined && { signal: AbortSignal.timeout(timeoutMs) }) });
  const body = await res.text();
  assert.equal(res.status, 200, `GET ${url}/metrics answered ${res.status}: ${body.slice(0, 200)}`);
  return { body, samples: samples(body) };
}
