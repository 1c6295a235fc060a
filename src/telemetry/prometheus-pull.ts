import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { constants, gzip } from 'node:zlib';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import type { Resource } from '@opentelemetry/resources';
import type { CollectionResult, MetricProducer, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ExpositionFormat, ExpositionWriter } from '../exposition/format.ts';
import { DEFAULT_FORMAT } from '../exposition/negotiate.ts';
import type { PrometheusTextOptions } from '../exposition/prometheus-text.ts';
import { formatKey, Writers } from '../exposition/writers.ts';
import type { Logger } from '../logging.ts';

/** Raised when a collection does not finish within the scrape's budget. */
export class CollectTimeoutError extends Error {
  override name = 'CollectTimeoutError';
}

// Collection is bounded by its own deadline; this grace covers the bookkeeping after it.
const GRACE_MS = 250;

const gzipAsync = promisify(gzip);

/**
 * Fastest zlib level: on a 9 MB exposition it compresses ~4× faster than the default level 6 for a body
 * ~6 % larger (expositions are repetitive text; the extra effort buys little).
 */
const GZIP_LEVEL = constants.Z_BEST_SPEED;

/** What the /metrics of custom-exporter shows by default (the README explains the choice). */
const DEFAULT_TEXT_OPTIONS: PrometheusTextOptions = { scopeLabels: false, targetInfo: true };

/** One collection written in one format. Scrapes that share both share the body and its one gzip compression. */
export class Exposition {
  readonly format: ExpositionFormat;
  readonly body: Buffer;
  #gzipped: Promise<Buffer> | undefined;

  constructor(format: ExpositionFormat, body: Buffer) {
    this.format = format;
    this.body = body;
  }

  gzip(): Promise<Buffer> {
    this.#gzipped ??= gzipAsync(this.body, { level: GZIP_LEVEL });
    return this.#gzipped;
  }
}

/** One collection's metrics, written at most once per format, when a scrape first asks for that format. */
class CollectedMetrics {
  readonly #resourceMetrics: ResourceMetrics;
  readonly #writer: (format: ExpositionFormat) => Promise<ExpositionWriter>;
  readonly #expositions = new Map<string, Promise<Exposition>>();

  constructor(resourceMetrics: ResourceMetrics, writer: (format: ExpositionFormat) => Promise<ExpositionWriter>) {
    this.#resourceMetrics = resourceMetrics;
    this.#writer = writer;
  }

  exposition(format: ExpositionFormat): Promise<Exposition> {
    const key = formatKey(format);
    let exposition = this.#expositions.get(key);
    if (!exposition) {
      exposition = this.#writer(format).then((writer) => new Exposition(format, writer.serialize(this.#resourceMetrics)));
      this.#expositions.set(key, exposition);
    }
    return exposition;
  }
}

/** The sources' producer, which can collect a subset of the sources by name (`GET /metrics?source=`). */
export interface SelectableSources {
  collectSelected(names: ReadonlySet<string>, timeoutMs: number): Promise<CollectionResult>;
}

/** What a `?source=` scrape collects from, and the resource its answer carries (target_info), as a full one does. */
export interface Selection {
  readonly sources: SelectableSources;
  readonly resource: Resource;
}

interface Collection {
  /** The budget it was started with: a scrape joins it only when that is at least its own. */
  readonly budgetMs: number;
  /** performance.now() after which it is no longer joined (its own deadline plus grace). */
  readonly joinableUntil: number;
  readonly result: Promise<CollectedMetrics>;
}

/**
 * The Prometheus pull side: the SDK's PrometheusExporter as a reader (no server of its own), collected with a
 * timeout and written in the format each scrape negotiated, by one writer per format (writers.ts) kept for the life
 * of the pull side (writers keep caches from one collection to the next).
 *
 * Concurrent scrapes share one collection: a scrape arriving while a collection is in flight joins it when that
 * collection was started with at least the scrape's own budget (so joining never gives a source less time than
 * the scraper allowed); otherwise it starts a new one, which later scrapes join. Either way each scrape still
 * answers by its own deadline. A collection is never reused once it has finished: every scrape that starts
 * after the previous collection ended gets fresh values. Scrapes sharing a collection but asking for different
 * formats get their own bodies from it; each body is written once and compressed at most once.
 *
 * A scrape that selects sources (`?source=`, issue 13) collects only those, without the MeterProvider's own
 * instruments (the exporter's self-metrics), and shares its collection only with scrapes of the same selection.
 */
export class PrometheusPull {
  readonly reader: PrometheusExporter;
  readonly #writers: Writers;
  // Selections' bodies have writers of their own: their caches then never evict those of the full collection.
  readonly #selectionWriters: Writers;
  readonly #logger: Logger;
  readonly #selection: Selection | undefined;
  /** The collection of every source in flight, and those of selections by selectionKey (while in flight). */
  #current: Collection | undefined;
  readonly #selected = new Map<string, Collection>();

  constructor(producers: MetricProducer[], logger: Logger, text: PrometheusTextOptions = DEFAULT_TEXT_OPTIONS, selection?: Selection) {
    this.reader = new PrometheusExporter({ preventServerStart: true, metricProducers: producers });
    this.#writers = new Writers(text);
    this.#selectionWriters = new Writers(text);
    this.#logger = logger;
    this.#selection = selection;
  }

  /**
   * One scrape: every metric in the format (or only the sources named in `sources`), or a rejection when
   * collection fails as a whole, is late, or a name is not a source (SourceSelectionError).
   */
  async scrape(timeoutMs: number, format: ExpositionFormat = DEFAULT_FORMAT, sources?: ReadonlySet<string>): Promise<Exposition> {
    const now = performance.now();
    const key = sources && selectionKey(sources);
    let collection = key === undefined ? this.#current : this.#selected.get(key);
    if (!collection || collection.budgetMs < timeoutMs || now > collection.joinableUntil)
      collection = this.#start(timeoutMs, now, sources, key);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CollectTimeoutError(`collection did not finish within ${timeoutMs} ms`)), timeoutMs + GRACE_MS);
    });
    try {
      return await Promise.race([collection.result.then((collected) => collected.exposition(format)), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  #start(timeoutMs: number, now: number, sources: ReadonlySet<string> | undefined, key: string | undefined): Collection {
    const result = sources && key !== undefined ? this.#collectSelected(timeoutMs, sources) : this.#collect(timeoutMs);
    const collection: Collection = { budgetMs: timeoutMs, joinableUntil: now + timeoutMs + GRACE_MS, result };
    let done: () => void;
    if (key === undefined) {
      this.#current = collection;
      done = () => {
        if (this.#current === collection) this.#current = undefined;
      };
    } else {
      this.#selected.set(key, collection);
      done = () => {
        if (this.#selected.get(key) === collection) this.#selected.delete(key);
      };
    }
    result.then(done, done);
    return collection;
  }

  async #collect(timeoutMs: number): Promise<CollectedMetrics> {
    const { resourceMetrics, errors } = await this.reader.collect({ timeoutMillis: timeoutMs });
    return this.#collected(resourceMetrics, errors, this.#writers);
  }

  async #collectSelected(timeoutMs: number, sources: ReadonlySet<string>): Promise<CollectedMetrics> {
    const selection = this.#selection;
    if (!selection) throw new Error('this pull side cannot select sources');
    const { resourceMetrics, errors } = await selection.sources.collectSelected(sources, timeoutMs);
    return this.#collected({ resource: selection.resource, scopeMetrics: resourceMetrics.scopeMetrics }, errors, this.#selectionWriters);
  }

  #collected(resourceMetrics: ResourceMetrics, errors: unknown[], writers: Writers): CollectedMetrics {
    for (const err of errors) this.#logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'collection error');
    return new CollectedMetrics(resourceMetrics, (format) => writers.get(format));
  }
}

// The same names in any order, repeated or not, are one selection (one shared collection).
const selectionKey = (sources: ReadonlySet<string>) => JSON.stringify([...sources].sort());
