// custom-exporter (the built dist/) serving the workload source, started as the CLI starts it: config → startExporter.
import { parseConfig } from '../../dist/config/load.js';
import { startExporter } from '../../dist/exporter.js';
import { createLogger } from '../../dist/logging.js';
import { builtinSources } from '../../dist/sources/registry.js';
import { resolveTelemetrySettings } from '../../dist/telemetry/telemetry-settings.js';
import { announce, seriesArg } from '../workload.mjs';
import { benchWorkloadSource } from '../workload-source.mjs';

const series = seriesArg();
const yaml = `
global:
  seriesLimit: ${series}
  scrapeTimeout: 60s
  sourceTimeout: 60s
sources:
  - kind: bench_workload
    name: bench
    series: ${series}
`;
const config = parseConfig(yaml, 'bench.yaml', [...builtinSources, benchWorkloadSource]);
const exporter = await startExporter({
  config,
  telemetry: resolveTelemetrySettings({}, config.telemetry),
  listen: { host: '127.0.0.1', port: 0 },
  telemetryPath: '/metrics',
  exporterMetrics: true,
  logger: createLogger('warn', 'logfmt'),
});
announce(exporter.address.port);
process.on('SIGTERM', () => void exporter.stop().then(() => process.exit(0)));
