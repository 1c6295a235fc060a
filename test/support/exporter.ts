import { pino } from 'pino';
import { loadConfigFile, parseConfig } from '../../src/config/load.ts';
import type { ResolvedConfig } from '../../src/config/resolved.ts';
import { type Exporter, startExporter, type WebSettings } from '../../src/exporter.ts';
import { builtinSources } from '../../src/sources/registry.ts';
import { resolveTelemetrySettings } from '../../src/telemetry/telemetry-settings.ts';
import { testSources } from './test-sources.ts';

export interface TestExporter extends Exporter {
  readonly url: string;
}

/** The real exporter, in this process, on a free loopback port, with the test source kinds available. */
export async function startTestExporter(
  configYaml: string,
  options: { exporterMetrics?: boolean; env?: NodeJS.ProcessEnv; web?: WebSettings } = {},
): Promise<TestExporter> {
  return serve(parseConfig(configYaml, 'test.yaml', [...builtinSources, ...testSources]), undefined, options);
}

/** Like startTestExporter, from a config file (so `kind: module` works); `reload()` reads the file again. */
export async function startTestExporterFromFile(file: string, options: { env?: NodeJS.ProcessEnv } = {}): Promise<TestExporter> {
  const load = () => loadConfigFile(file, [...builtinSources, ...testSources]);
  return serve(await load(), load, options);
}

async function serve(
  config: ResolvedConfig,
  loadConfig: (() => Promise<ResolvedConfig>) | undefined,
  options: { exporterMetrics?: boolean; env?: NodeJS.ProcessEnv; web?: WebSettings },
): Promise<TestExporter> {
  const exporter = await startExporter({
    config,
    loadConfig,
    telemetry: resolveTelemetrySettings(options.env ?? {}, config.telemetry),
    listen: { host: '127.0.0.1', port: 0 },
    telemetryPath: '/metrics',
    exporterMetrics: options.exporterMetrics ?? true,
    ...(options.web ? { web: options.web } : {}),
    logger: pino({ level: 'silent' }),
  });
  const scheme = options.web?.config?.tls ? 'https' : 'http';
  return { ...exporter, url: `${scheme}://127.0.0.1:${exporter.address.port}` };
}
