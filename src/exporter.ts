import type { AddressInfo } from 'node:net';
import { SourceCollector, type SourceStatus } from './collector/source-collector.ts';
import type { ResolvedConfig } from './config/resolved.ts';
import { createApp } from './http/app.ts';
import type { ListenAddress } from './http/listen-address.ts';
import { listen } from './http/server.ts';
import type { WebConfig } from './http/web-config.ts';
import { WebConfigWatcher } from './http/web-config-watcher.ts';
import type { Logger } from './logging.ts';
import { SourceSet } from './reload.ts';
import { createMeterProvider } from './telemetry/meter-provider.ts';
import { registerProcessMetrics } from './telemetry/process-metrics.ts';
import { PrometheusPull } from './telemetry/prometheus-pull.ts';
import { createPushReaders } from './telemetry/push-readers.ts';
import { exportCounter, registerBuildInfo, scrapeCounter } from './telemetry/self-metrics.ts';
import type { TelemetrySettings } from './telemetry/telemetry-settings.ts';
import { NAME, VERSION } from './version.ts';

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

/** How the HTTP side is protected (--web.* flags and the web config file). */
export interface WebSettings {
  /** TLS, basic auth users and response headers; undefined serves plain HTTP to everyone. */
  readonly config: WebConfig | undefined;
  readonly maxRequests: number;
  readonly protectHealth: boolean;
}

export const DEFAULT_MAX_REQUESTS = 40;
const PLAIN_WEB: WebSettings = { config: undefined, maxRequests: DEFAULT_MAX_REQUESTS, protectHealth: false };
const NO_WEB_CONFIG = { headers: {}, users: new Map<string, string>() };

export interface Exporter {
  readonly address: AddressInfo;
  status(): SourceStatus[];
  /** Loads the config again and applies it; false when it could not be (the old config stays). */
  reload(): Promise<boolean>;
  /** Graceful stop: no new connections, in-flight scrapes finish (bounded), telemetry shut down. */
  stop(): Promise<void>;
}

const SHUTDOWN_GRACE_MS = 10_000;

/** Wires config → sources → OpenTelemetry → readers → HTTP, and starts serving. */
export async function startExporter(settings: ExporterSettings): Promise<Exporter> {
  const { config, logger } = settings;
  const web = settings.web ?? PLAIN_WEB;
  const collector = new SourceCollector({
    defaultTimeoutMs: config.global.scrapeTimeout,
    logger,
    selfScope: { name: NAME, version: VERSION },
  });
  // Every reader collects the same sources through the same collector: pulled and pushed values agree.
  const text = { scopeLabels: config.global.scopeLabels, targetInfo: config.global.targetInfo };
  const pull = settings.telemetry.exporters.has('prometheus') ? new PrometheusPull([collector], logger, text) : undefined;
  let countExport: ReturnType<typeof exportCounter> = () => {};
  const pushReaders = await createPushReaders(
    settings.telemetry,
    [collector],
    (exporter, outcome) => countExport(exporter, outcome),
    logger,
  );
  const meterProvider = createMeterProvider([...(pull ? [pull.reader] : []), ...pushReaders], config.global.seriesLimit);
  const selfMeter = meterProvider.getMeter(NAME, VERSION);
  registerBuildInfo(selfMeter);
  if (pushReaders.length > 0) countExport = exportCounter(selfMeter);
  const stopProcessMetrics = settings.exporterMetrics ? registerProcessMetrics(selfMeter) : () => {};

  let sources: SourceSet;
  try {
    sources = await SourceSet.start(config, { collector, meterProvider, selfMeter, logger });
  } catch (err) {
    await meterProvider.shutdown({ timeoutMillis: settings.telemetry.timeoutMs });
    throw err;
  }
  const loadConfig = settings.loadConfig ?? (async () => config);
  const reload = () => sources.reload(loadConfig);

  let ready = true;
  const app = createApp({
    name: NAME,
    version: VERSION,
    telemetryPath: settings.telemetryPath,
    metrics: pull && {
      scrape: (timeoutMs) => pull.scrape(timeoutMs),
      defaultTimeoutMs: config.global.scrapeTimeout,
      timeoutOffsetMs: config.global.scrapeTimeoutOffset,
      onScrape: scrapeCounter(selfMeter),
    },
    sources: () => collector.status(),
    isReady: () => ready,
    reload: settings.enableLifecycle ? reload : undefined,
    maxRequests: web.maxRequests,
    protectHealth: web.protectHealth,
    web: () => webConfig?.current ?? NO_WEB_CONFIG,
    logger,
  });
  const server = await listen(app, settings.listen, web.config?.tls);
  const webConfig =
    web.config &&
    new WebConfigWatcher(web.config, logger, (next) => {
      if (next.tls && server.tls) server.updateTls(next.tls);
    });
  webConfig?.start();
  const exporters = [...settings.telemetry.exporters].join(',');
  logger.info(
    {
      address: `${server.address.address}:${server.address.port}`,
      tls: server.tls,
      sources: sources.sources.map((s) => s.name).join(','),
      config: config.file ?? 'built-in demo',
      exporters,
    },
    'listening',
  );
  if (exporters === '')
    logger.warn('no metric exporter enabled (OTEL_METRICS_EXPORTER=none or OTEL_SDK_DISABLED=true): metrics are neither served nor pushed');

  return {
    address: server.address,
    status: () => collector.status(),
    reload,
    async stop() {
      ready = false;
      webConfig?.stop();
      await server.close(SHUTDOWN_GRACE_MS);
      sources.stop();
      stopProcessMetrics();
      // Push readers export once more on shutdown, bounded by the export timeout.
      await meterProvider.shutdown({ timeoutMillis: settings.telemetry.timeoutMs });
    },
  };
}
