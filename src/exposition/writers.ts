import type { ExpositionFormat, ExpositionWriter, ScrapeProtocol } from './format.ts';
import { PrometheusText, type PrometheusTextOptions } from './prometheus-text.ts';

/** The protocols that have a writer: negotiation chooses only among these (a protocol is added with its `case`). */
export const WRITABLE_PROTOCOLS: ReadonlySet<ScrapeProtocol> = new Set<ScrapeProtocol>([
  'PrometheusText0.0.4',
  'PrometheusText1.0.0',
  'OpenMetricsText0.0.1',
  'OpenMetricsText1.0.0',
  'PrometheusProto',
]);

/**
 * The one place that maps a format to its writer. Text 0.0.4 is what an exporter serves by default and is loaded
 * with it; every other writer is loaded by a dynamic import() on first use, so that an exporter nobody scrapes
 * in that format does not pay for it in memory (idle RSS is measured: bench/RESULTS.md).
 */
async function createWriter(format: ExpositionFormat, text: PrometheusTextOptions): Promise<ExpositionWriter> {
  switch (format.protocol) {
    case 'PrometheusText0.0.4':
      return new PrometheusText(text);
    case 'PrometheusProto':
      return new (await import('./protobuf-writer.ts')).PrometheusProtobuf(text, format.escaping);
    case 'PrometheusText1.0.0':
    case 'OpenMetricsText0.0.1':
    case 'OpenMetricsText1.0.0':
      // The text dialects are one writer class, loaded with text 0.0.4 (prometheus-text.ts).
      return new PrometheusText(text, { protocol: format.protocol, escaping: format.escaping });
  }
}

/** What tells two formats apart: their protocol and escaping. */
export const formatKey = (format: ExpositionFormat): string => `${format.protocol};${format.escaping}`;

/**
 * One writer per format, made on first use and kept (a writer keeps caches from one collection to the next); a
 * writer that failed to load (a module that did not import) is not kept, so the next scrape tries again.
 */
export class Writers {
  readonly #text: PrometheusTextOptions;
  readonly #writers = new Map<string, Promise<ExpositionWriter>>();

  constructor(text: PrometheusTextOptions) {
    this.#text = text;
  }

  get(format: ExpositionFormat): Promise<ExpositionWriter> {
    const key = formatKey(format);
    let writer = this.#writers.get(key);
    if (!writer) {
      writer = createWriter(format, this.#text);
      this.#writers.set(key, writer);
      writer.catch(() => this.#writers.delete(key));
    }
    return writer;
  }
}
