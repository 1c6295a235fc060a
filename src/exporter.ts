import type { AddressInfo } from 'node:net';
import { SourceCollector, type SourceStatus } from './collector/source-collector.ts';
import { SourceSet } from './collector/source-set.ts';
import type { ResolvedConfig } from './config/resolved.ts';
import { type HttpService, PLAIN_WEB, startHttp, type WebSettings } from './http/http-service.ts';
import type { ListenAddress } from './http/listen-address.ts';
import type { Logger } from './logging.ts';
import type { Probes } from './probe/probes.ts';
import { startTelemetry, type Telemetry } from './telemetry/telemetry.ts';
import type { TelemetrySettings } from './telemetry/telemetry-settings.ts';
import { NAME, VERSION } from './version.ts';

export type { WebSettings };

export interface ExporterSettings {
  readonly config: ResolvedConfig;
  readonly listen: ListenAddress;
  readonly telemetryPath: string;
  /** Defaults to plain HTTP, no users, 40 concurrent scrapes. */
  readonly web?: WebSettings;
  /** process_* and nodejs_* metrics about the exporter itself (--web.disable-exporter-metrics turns them off). */
  readonly exporterMetrics: boolean;
  /** Which readers run (Prometheus pull, OTLP or console push) and how pushes are made. */
  readonly telemetry: TelemetrySettings;
  /** Reads the config again for a reload (SIGHUP, POST /-/reload); without it a reload re-applies `config`. */
  readonly loadConfig?: () => Promise<ResolvedConfig>;
  /** Serve POST /-/reload (--web.enable-lifecycle). */
  readonly enableLifecycle?: boolean;
  readonly logger: Logger;
}

export interface Exporter {
  readonly address: AddressInfo;
  status(): SourceStatus[];
  /** Loads the config again and applies it; false when it could not be (the old config stays). */
  reload(): Promise<boolean>;
  /** Graceful stop: no new connections, in-flight scrapes finish (bounded), telemetry shut down. */
  stop(): Promise<void>;
}

const SHUTDOWN_GRACE_MS = 10_000;

/**
 * The composition root: config → sources → OpenTelemetry → readers → HTTP. Three parts, each built by its own
 * function from what the ones before returned: telemetry (MeterProvider, readers, own metrics), the running
 * sources, and HTTP.
 */
export async function startExporter(settings: ExporterSettings): Promise<Exporter> {
  const { config, logger } = settings;
  const collector = new SourceCollector({
    defaultTimeoutMs: config.global.scrapeTimeout,
    logger,
    selfScope: { name: NAME, version: VERSION },
  });
  const telemetry = await startTelemetry({
    settings: settings.telemetry,
    producers: [collector],
    selectable: collector,
    text: {
      scopeLabels: config.global.scopeLabels,
      targetInfo: config.global.targetInfo,
      translationStrategy: config.global.translationStrategy,
      ownScope: { name: NAME, version: VERSION },
    },
    processMetrics: settings.exporterMetrics,
    logger,
  });
  const sources = await startSources(config, collector, telemetry, logger);
  const modules = new ProbeModules(config, telemetry, logger);
  await modules.apply(config);
  const loadConfig = settings.loadConfig ?? (async () => config);
  const reload = async () => {
    let loaded: ResolvedConfig | undefined;
    const applied = await sources.reload(async () => {
      loaded = await loadConfig();
      return loaded;
    });
    if (applied && loaded) await modules.apply(loaded);
    return applied;
  };
  let ready = true;
  let http: HttpService;
  try {
    http = await startHttpPart(settings, telemetry, modules, {
      sources: () => collector.status(),
      isReady: () => ready,
      reload: settings.enableLifecycle ? reload : undefined,
    });
  } catch (err) {
    // Nothing may keep running when the port cannot be had.
    sources.stop();
    await telemetry.abandon();
    throw err;
  }
  logListening(settings, http, sources);

  return {
    address: http.address,
    status: () => collector.status(),
    reload,
    async stop() {
      ready = false;
      await http.stop(SHUTDOWN_GRACE_MS);
      sources.stop();
      await telemetry.shutdown();
    },
  };
}

/** Starts the config's sources, collected by `collector`; if one fails, telemetry is stopped again. */
async function startSources(config: ResolvedConfig, collector: SourceCollector, telemetry: Telemetry, logger: Logger): Promise<SourceSet> {
  try {
    return await SourceSet.start(config, {
      collector,
      reloadMetrics: telemetry.self.reload,
      logger,
    });
  } catch (err) {
    await telemetry.abandon();
    throw err;
  }
}

/** Serves the pull reader's metrics (when Prometheus is an exporter) beside the landing page, probes and reload. */
function startHttpPart(
  settings: ExporterSettings,
  telemetry: Telemetry,
  modules: ProbeModules,
  served: { sources: () => SourceStatus[]; isReady: () => boolean; reload: (() => Promise<boolean>) | undefined },
): Promise<HttpService> {
  const { config, logger } = settings;
  const web = settings.web ?? PLAIN_WEB;
  const { pull } = telemetry;
  return startHttp({
    listen: settings.listen,
    web,
    logger,
    routes: {
      about: { name: NAME, version: VERSION, sources: served.sources, modules: () => modules.status() },
      metrics: pull && {
        path: settings.telemetryPath,
        maxRequests: web.maxRequests,
        scrape: (timeoutMs, format, sources) => pull.scrape(timeoutMs, format, sources),
        defaultTimeoutMs: config.global.scrapeTimeout,
        timeoutOffsetMs: config.global.scrapeTimeoutOffset,
        onScrape: telemetry.self.countScrape,
      },
      probes: {
        run: (module, target, params, timeoutMs, format) => modules.run(module, target, params, timeoutMs, format),
        maxConcurrent: config.global.maxConcurrentProbes,
        defaultTimeoutMs: config.global.scrapeTimeout,
        timeoutOffsetMs: config.global.scrapeTimeoutOffset,
      },
      isReady: served.isReady,
      reload: served.reload,
    },
  });
}

/**
 * The config's `modules` for GET /probe. The prober is loaded only once a config has modules (idle memory: an
 * exporter without them never loads it); until then every module name is unknown.
 */
class ProbeModules {
  readonly #config: ResolvedConfig;
  readonly #telemetry: Telemetry;
  readonly #logger: Logger;
  #probes: Probes | undefined;

  constructor(config: ResolvedConfig, telemetry: Telemetry, logger: Logger) {
    this.#config = config;
    this.#telemetry = telemetry;
    this.#logger = logger;
  }

  async apply(config: ResolvedConfig): Promise<void> {
    if (this.#probes) return this.#probes.setModules(config.modules);
    if (config.modules.length === 0) return;
    const { Probes } = await import('./probe/probes.ts');
    const { global } = this.#config;
    this.#probes = new Probes(config.modules, {
      logger: this.#logger,
      seriesLimit: global.seriesLimit,
      text: { scopeLabels: global.scopeLabels, targetInfo: false, translationStrategy: global.translationStrategy },
      countProbe: this.#telemetry.self.countProbe,
      countProbeRefused: this.#telemetry.self.countProbeRefused,
    });
  }

  /** The modules and their recent probes for the landing page; none until the prober is loaded. */
  status(): ReturnType<Probes['status']> {
    return this.#probes?.status() ?? [];
  }

  run(...[module, ...rest]: Parameters<Probes['run']>): ReturnType<Probes['run']> {
    if (!this.#probes) return Promise.resolve({ status: 400, reason: `unknown module ${JSON.stringify(module)}` });
    return this.#probes.run(module, ...rest);
  }
}

function logListening(settings: ExporterSettings, http: HttpService, sources: SourceSet): void {
  const { logger } = settings;
  const exporters = [...settings.telemetry.exporters].join(',');
  logger.info(
    {
      address: `${http.address.address}:${http.address.port}`,
      tls: http.tls,
      sources: sources.sources.map((s) => s.name).join(','),
      config: settings.config.file ?? 'built-in demo',
      exporters,
    },
    'listening',
  );
  if (exporters === '')
    logger.warn('no metric exporter enabled (OTEL_METRICS_EXPORTER=none or OTEL_SDK_DISABLED=true): metrics are neither served nor pushed');
}
