import { isDeepStrictEqual } from 'node:util';
import type { ResolvedConfig, ResolvedSource } from '../config/resolved.ts';
import type { Logger } from '../logging.ts';
import type { SelfInstruments } from '../telemetry/self-metrics.ts';
import { errorMessage, RunningSource } from './running-source.ts';
import type { SourceCollector } from './source-collector.ts';

export interface SourceSetOptions {
  readonly collector: SourceCollector;
  /** custom_exporter_config_last_reload_*, observed from this set's reload results. */
  readonly reloadMetrics: SelfInstruments['reload'];
  readonly logger: Logger;
}

/**
 * The running sources of the current config, and reloading them: a new config is validated and its new or
 * changed sources started before anything is swapped, so a bad file or a failing source keeps the old set.
 * Unchanged sources keep running (their counters and state carry on); changed ones restart; removed ones stop.
 */
export class SourceSet {
  #config: ResolvedConfig;
  #sources: readonly RunningSource[];
  readonly #options: SourceSetOptions;
  #lastReloadOk = true;
  #lastReloadSuccessMs = Date.now();
  // Reloads run one after another (SIGHUP and POST /-/reload may arrive together).
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(config: ResolvedConfig, sources: readonly RunningSource[], options: SourceSetOptions) {
    this.#config = config;
    this.#sources = sources;
    this.#options = options;
    options.collector.setSources(sources);
    options.reloadMetrics.successful.addCallback((result) => result.observe(this.#lastReloadOk ? 1 : 0));
    options.reloadMetrics.successTime.addCallback((result) => result.observe(this.#lastReloadSuccessMs / 1000));
  }

  /** Starts every source of `config`; if one fails, the ones started are stopped and the error is thrown. */
  static async start(config: ResolvedConfig, options: SourceSetOptions): Promise<SourceSet> {
    const sources = await startAll(config.sources, config, options, []);
    return new SourceSet(config, sources, options);
  }

  get sources(): readonly RunningSource[] {
    return this.#sources;
  }

  /** Loads the config again and applies it; resolves to whether it was applied (failures are logged). */
  reload(load: () => Promise<ResolvedConfig>): Promise<boolean> {
    const next = this.#queue.then(() => this.#reload(load));
    this.#queue = next;
    return next;
  }

  stop(): void {
    for (const s of this.#sources) s.stop();
  }

  async #reload(load: () => Promise<ResolvedConfig>): Promise<boolean> {
    const { logger } = this.#options;
    let config: ResolvedConfig;
    let sources: RunningSource[];
    try {
      config = await load();
      sources = await startAll(
        config.sources,
        config,
        this.#options,
        this.#sources.filter((s) => unchanged(s, config)),
      );
    } catch (err) {
      this.#lastReloadOk = false;
      logger.error({ err: errorMessage(err), file: this.#config.file }, 'config reload failed; the previous config stays in effect');
      return false;
    }
    const kept = new Set(sources);
    const stopped = this.#sources.filter((s) => !kept.has(s));
    this.#options.collector.setSources(sources);
    for (const s of stopped) s.stop();
    const before = this.#sources.map((s) => s.name);
    const after = sources.map((s) => s.name);
    const names = (list: string[]) => list.join(',') || undefined;
    logger.info(
      {
        file: config.file,
        added: names(after.filter((n) => !before.includes(n))),
        removed: names(before.filter((n) => !after.includes(n))),
        restarted: names(stopped.map((s) => s.name).filter((n) => after.includes(n))),
        unchanged: names(sources.filter((s) => this.#sources.includes(s)).map((s) => s.name)),
      },
      'config reloaded',
    );
    if (!isDeepStrictEqual(withoutSources(config), withoutSources(this.#config))) {
      logger.warn('global scrape settings and telemetry changes take effect after a restart');
    }
    this.#config = config;
    this.#sources = sources;
    this.#lastReloadOk = true;
    this.#lastReloadSuccessMs = Date.now();
    return true;
  }
}

/** The running sources for `configs`: a source in `keep` is reused by name, the others are started. */
async function startAll(
  configs: readonly ResolvedSource[],
  config: ResolvedConfig,
  options: SourceSetOptions,
  keep: readonly RunningSource[],
): Promise<RunningSource[]> {
  const started: RunningSource[] = [];
  const sources: RunningSource[] = [];
  try {
    for (const source of configs) {
      const running = keep.find((s) => s.name === source.name);
      if (running) {
        sources.push(running);
        continue;
      }
      const fresh = await RunningSource.start(source, { ...options, seriesLimit: config.global.seriesLimit });
      started.push(fresh);
      sources.push(fresh);
    }
  } catch (err) {
    for (const s of started) s.stop();
    throw err;
  }
  return sources;
}

// Same kind (the same module file, unchanged), options, timeout, policy, series limit and histogram aggregations:
// nothing to restart.
function unchanged(running: RunningSource, config: ResolvedConfig): boolean {
  const next = config.sources.find((s) => s.name === running.name);
  const current = running.config;
  return (
    next !== undefined &&
    next.definition === current.definition &&
    next.module === current.module &&
    next.timeoutMs === current.timeoutMs &&
    running.seriesLimit === config.global.seriesLimit &&
    isDeepStrictEqual(next.collection, current.collection) &&
    isDeepStrictEqual(next.histograms, current.histograms) &&
    isDeepStrictEqual(next.options, current.options)
  );
}

function withoutSources(config: ResolvedConfig) {
  const { scrapeTimeout, scrapeTimeoutOffset, scopeLabels, targetInfo, translationStrategy } = config.global;
  return { scrapeTimeout, scrapeTimeoutOffset, scopeLabels, targetInfo, translationStrategy, telemetry: config.telemetry };
}
