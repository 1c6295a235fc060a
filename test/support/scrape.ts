import assert from 'node:assert/strict';

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

/** Samples of a text exposition: `name{labels}` → value, skipping comments. */
export function samples(body: string): Map<string, number> {
  const result = new Map<string, number>();
  for (const line of body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    result.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return result;
}

/** The samples whose series name (before `{`) is `name`. */
export function family(body: string, name: string): [string, number][] {
  return [...samples(body)].filter(([series]) => series === name || series.startsWith(`${name}{`));
}
