import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { SourceSetupError } from './collector/running-source.ts';
import { defaultConfig } from './config/default.ts';
import { ConfigError, loadConfigFile } from './config/load.ts';
import type { ResolvedConfig } from './config/resolved.ts';
import { type Exporter, startExporter } from './exporter.ts';
import { DEFAULT_MAX_REQUESTS } from './http/http-service.ts';
import { type ListenAddress, parseListenAddress } from './http/listen-address.ts';
import { RESERVED_PATHS } from './http/routes.ts';
import { loadWebConfig } from './http/web-config.ts';
import { createLogger, LOG_FORMATS, LOG_LEVELS, type LogFormat, type Logger, type LogLevel, routeDiagnostics } from './logging.ts';
import { releaseStartupMemory } from './release-memory.ts';
import { builtinSources } from './sources/registry.ts';
import { resolveTelemetrySettings, type TelemetrySettings, TelemetrySettingsError } from './telemetry/telemetry-settings.ts';
import { NAME, VERSION } from './version.ts';

/** Exit code for bad input (flags, config file), as promtool and the Prometheus exporters use. */
const EXIT_INVALID = 2;

interface Flags {
  'web.listenAddress': ListenAddress;
  'web.telemetryPath': string;
  'web.disableExporterMetrics': boolean;
  'web.config.file'?: string;
  'web.maxRequests': number;
  'web.protectHealthEndpoints': boolean;
  'web.enableLifecycle': boolean;
  'config.file'?: string;
  'log.level': LogLevel;
  'log.format': LogFormat;
}

function flag(name: string, description: string, env: string): Option {
  return new Option(name, description).env(`CUSTOM_EXPORTER_${env}`);
}

function program(): Command {
  const cli = new Command(NAME)
    .description('Exposes the numbers a team cares about as Prometheus metrics, built on OpenTelemetry.')
    .version(VERSION, '--version', 'print the version and exit')
    .helpOption('-h, --help', 'show this help and exit')
    .addOption(
      flag('--web.listen-address <[host]:port>', 'address to listen on', 'WEB_LISTEN_ADDRESS')
        .default(parseListenAddress(':9000'), ':9000')
        .argParser(usageError(parseListenAddress)),
    )
    .addOption(
      flag('--web.telemetry-path <path>', 'path under which to expose metrics', 'WEB_TELEMETRY_PATH')
        .default('/metrics')
        .argParser(usageError(telemetryPath)),
    )
    .addOption(
      flag(
        '--web.disable-exporter-metrics',
        "exclude the exporter's own process_* and nodejs_* metrics",
        'WEB_DISABLE_EXPORTER_METRICS',
      ).default(false),
    )
    .addOption(
      flag(
        '--web.config.file <file>',
        'exporter-toolkit web config: TLS, basic auth, response headers (reloaded on change)',
        'WEB_CONFIG_FILE',
      ),
    )
    .addOption(
      flag('--web.max-requests <n>', 'most concurrent metrics requests; more get 503 (0: no limit)', 'WEB_MAX_REQUESTS')
        .default(DEFAULT_MAX_REQUESTS)
        .argParser(usageError(wholeNumber)),
    )
    .addOption(
      flag(
        '--web.protect-health-endpoints',
        'require basic auth on /healthz and /readyz too (kubelet probes send none)',
        'WEB_PROTECT_HEALTH_ENDPOINTS',
      ).default(false),
    )
    .addOption(flag('--web.enable-lifecycle', 'reload the config file on POST /-/reload', 'WEB_ENABLE_LIFECYCLE').default(false))
    .addOption(flag('--config.file <file>', 'YAML file listing the sources (default: the built-in demo source)', 'CONFIG_FILE'))
    .addOption(
      flag('--log.level <level>', 'only log messages with this severity or above', 'LOG_LEVEL').choices(LOG_LEVELS).default('info'),
    )
    .addOption(flag('--log.format <format>', 'output format of log messages', 'LOG_FORMAT').choices(LOG_FORMATS).default('logfmt'))
    .showHelpAfterError()
    .exitOverride();
  cli
    .command('check-config')
    .description('validate a config file without starting (exit 0 when valid, 2 when not)')
    .argument('<file>', 'the config file')
    .action(async (file: string) => {
      try {
        const { config } = await loadStartupConfig(file, (message) => process.stderr.write(`warning: ${message}\n`));
        process.stdout.write(
          `${file}: valid (${config.sources.length} source${config.sources.length === 1 ? '' : 's'}: ${config.sources.map((s) => s.name).join(', ')})\n`,
        );
      } catch (err) {
        if (!(err instanceof ConfigError || err instanceof TelemetrySettingsError)) throw err;
        process.stderr.write(`${err.message}\n`);
        process.exitCode = EXIT_INVALID;
      }
    });
  cli.action(async () => {
    await serve(cli.opts<Flags>());
  });
  return cli;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await program().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : EXIT_INVALID;
      return;
    }
    throw err;
  }
}

/**
 * What check-config and start both run on a config file, so that they cannot disagree (issue 11): the file
 * (with its modules, secret files and variables, CA files) and the OTEL_* environment over its telemetry section.
 */
async function loadStartupConfig(
  file: string | undefined,
  warn: (message: string) => void,
): Promise<{ config: ResolvedConfig; telemetry: TelemetrySettings }> {
  const config = file === undefined ? defaultConfig() : await loadConfigFile(file, builtinSources);
  for (const source of config.sources)
    for (const message of source.definition.warnings?.(source.options) ?? []) warn(`source ${source.name}: ${message}`);
  return { config, telemetry: resolveTelemetrySettings(process.env, config.telemetry, warn) };
}

async function serve(flags: Flags): Promise<void> {
  const logger = createLogger(flags['log.level'], flags['log.format']);
  routeDiagnostics(logger);
  const signals = handleSignals(logger);
  let exporter: Exporter;
  try {
    const configFile = flags['config.file'];
    const { config, telemetry } = await loadStartupConfig(configFile, (message) => logger.warn(message));
    exporter = await startExporter({
      config,
      loadConfig: async () => (configFile === undefined ? defaultConfig() : loadConfigFile(configFile, builtinSources)),
      enableLifecycle: flags['web.enableLifecycle'],
      telemetry,
      listen: flags['web.listenAddress'],
      telemetryPath: flags['web.telemetryPath'],
      web: {
        config: flags['web.config.file'] === undefined ? undefined : loadWebConfig(flags['web.config.file']),
        maxRequests: flags['web.maxRequests'],
        protectHealth: flags['web.protectHealthEndpoints'],
      },
      exporterMetrics: !flags['web.disableExporterMetrics'],
      logger,
    });
  } catch (err) {
    const invalid = err instanceof ConfigError || err instanceof SourceSetupError || err instanceof TelemetrySettingsError;
    logger.error({ err: err instanceof Error ? err.message : String(err) }, invalid ? 'invalid configuration' : 'failed to start');
    process.exitCode = invalid ? EXIT_INVALID : 1;
    return;
  }
  signals.ready(exporter);
  releaseStartupMemory();
}

function telemetryPath(path: string): string {
  if (!path.startsWith('/') || RESERVED_PATHS.includes(path)) {
    throw new Error(`"${path}" must start with / and not be one of the exporter's other paths: ${RESERVED_PATHS.join(', ')}`);
  }
  return path;
}

function wholeNumber(text: string): number {
  if (!/^\d+$/.test(text)) throw new Error(`"${text}" is not a whole number`);
  return Number(text);
}

/** Turns a parser's error into commander's usage error (message, help, exit 2). */
function usageError<T>(parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text);
    } catch (err) {
      throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
    }
  };
}

/**
 * SIGTERM or SIGINT: graceful stop, then exit 0. A second signal exits at once. SIGHUP: reload the config file.
 * Installed before startup: a SIGHUP while sources are still being set up would otherwise kill the process
 * (its default action); it is deferred until the exporter is ready instead (issue 11).
 */
function handleSignals(logger: Logger): { ready(exporter: Exporter): void } {
  let exporter: Exporter | undefined;
  let reloadWhenReady = false;
  process.on('SIGHUP', () => {
    if (!exporter) {
      reloadWhenReady = true;
      logger.info({ signal: 'SIGHUP' }, 'SIGHUP before the exporter is ready: reloading once it is');
      return;
    }
    logger.info({ signal: 'SIGHUP' }, 'reloading config');
    void exporter.reload();
  });
  return {
    ready(started) {
      exporter = started;
      handleStopSignals(started, logger);
      if (reloadWhenReady) {
        logger.info({ signal: 'SIGHUP' }, 'reloading config');
        void started.reload();
      }
    },
  };
}

function handleStopSignals(exporter: Exporter, logger: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    exporter.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err: err instanceof Error ? err.message : String(err) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
