import { type Meter, type MetricOptions, type ObservableGauge, ValueType } from '@opentelemetry/api';
import type { MetricDescriptor } from '@opentelemetry/sdk-metrics';
import { VERSION } from '../version.ts';

/**
 * One of the exporter's own metrics. `name` is the OpenTelemetry instrument name: Prometheus adds `_total` to
 * counters. The labels are the attributes every series carries.
 */
export interface SelfMetric {
  readonly name: string;
  readonly kind: 'gauge' | 'counter';
  readonly description: string;
  readonly unit: string;
  readonly valueType: ValueType;
  readonly labels: readonly string[];
}

/**
 * Every custom_exporter_* metric, defined once: the parts that report them (telemetry, collector, source kinds)
 * take name, help, unit and labels from here, and the README table lists exactly these.
 */
export const SELF_METRICS = {
  buildInfo: {
    name: 'custom_exporter_build_info',
    kind: 'gauge',
    description: 'A metric with a constant 1 value labeled by the version of custom-exporter and of Node.js',
    unit: '',
    valueType: ValueType.INT,
    labels: ['version', 'node_version'],
  },
  sourceUp: {
    name: 'custom_exporter_source_up',
    kind: 'gauge',
    description: 'Whether the last collection of the source succeeded (1) or failed (0)',
    unit: '',
    valueType: ValueType.DOUBLE,
    labels: ['source'],
  },
  sourceDuration: {
    name: 'custom_exporter_source_duration_seconds',
    kind: 'gauge',
    description: 'How long the last collection of the source took',
    unit: 's',
    valueType: ValueType.DOUBLE,
    labels: ['source'],
  },
  sourceLastSuccess: {
    name: 'custom_exporter_source_last_success_timestamp_seconds',
    kind: 'gauge',
    description: 'When the source was last collected successfully',
    unit: 's',
    valueType: ValueType.DOUBLE,
    labels: ['source'],
  },
  sourceErrors: {
    name: 'custom_exporter_source_errors',
    kind: 'counter',
    description: 'Failed collections of the source, by reason',
    unit: '',
    valueType: ValueType.INT,
    labels: ['source', 'reason'],
  },
  configReloadSuccessful: {
    name: 'custom_exporter_config_last_reload_successful',
    kind: 'gauge',
    description: 'Whether the last configuration reload attempt was successful (1) or not (0)',
    unit: '',
    valueType: ValueType.INT,
    labels: [],
  },
  configReloadSuccessTime: {
    name: 'custom_exporter_config_last_reload_success_timestamp_seconds',
    kind: 'gauge',
    description: 'When the configuration was last loaded successfully',
    unit: 's',
    valueType: ValueType.DOUBLE,
    labels: [],
  },
  httpStatusCode: {
    name: 'custom_exporter_http_status_code',
    kind: 'gauge',
    description: 'Status code of the latest request of an http source (0: no answer)',
    unit: '',
    valueType: ValueType.DOUBLE,
    labels: ['source'],
  },
  httpRequestDuration: {
    name: 'custom_exporter_http_request_duration_seconds',
    kind: 'gauge',
    description: 'How long the latest request of an http source took',
    unit: 's',
    valueType: ValueType.DOUBLE,
    labels: ['source'],
  },
  commandExitCode: {
    name: 'custom_exporter_command_exit_code',
    kind: 'gauge',
    description: 'Exit code of the latest run of a command source (-1: killed or not started)',
    unit: '',
    valueType: ValueType.DOUBLE,
    labels: ['source'],
  },
  fileAge: {
    name: 'custom_exporter_file_age_seconds',
    kind: 'gauge',
    description: 'Time since the file of a file source was last modified',
    unit: 's',
    valueType: ValueType.DOUBLE,
    labels: ['source'],
  },
  textfileMtime: {
    name: 'custom_exporter_textfile_mtime_seconds',
    kind: 'gauge',
    description: 'When each file a textfile source read was last modified',
    unit: 's',
    valueType: ValueType.DOUBLE,
    labels: ['source', 'file'],
  },
  textfileScrapeError: {
    name: 'custom_exporter_textfile_scrape_error',
    kind: 'gauge',
    description: 'Whether a textfile source skipped a file it could not read or merge (1) or not (0)',
    unit: '',
    valueType: ValueType.DOUBLE,
    labels: ['source'],
  },
  sqlQueryDuration: {
    name: 'custom_exporter_sql_query_duration_seconds',
    kind: 'gauge',
    description: 'How long the latest run of each query of an sql source took',
    unit: 's',
    valueType: ValueType.DOUBLE,
    labels: ['source', 'query'],
  },
  sqlQueryRows: {
    name: 'custom_exporter_sql_query_rows',
    kind: 'gauge',
    description: 'Rows the latest successful run of each query of an sql source returned',
    unit: '',
    valueType: ValueType.DOUBLE,
    labels: ['source', 'query'],
  },
  sqlQueryErrors: {
    name: 'custom_exporter_sql_query_errors',
    kind: 'counter',
    description: 'Failed runs of each query of an sql source, by reason',
    unit: '',
    valueType: ValueType.INT,
    labels: ['source', 'query', 'reason'],
  },
  scrapes: {
    name: 'custom_exporter_scrapes',
    kind: 'counter',
    description: 'Scrapes of the metrics endpoint, by HTTP status code',
    unit: '',
    valueType: ValueType.INT,
    labels: ['code'],
  },
  exports: {
    name: 'custom_exporter_exports',
    kind: 'counter',
    description: 'Pushes of all metrics to an exporter (otlp, console), by outcome',
    unit: '',
    valueType: ValueType.INT,
    labels: ['exporter', 'outcome'],
  },
} as const satisfies Record<string, SelfMetric>;

/**
 * The exporter's process metrics, named, typed and labelled exactly as prom-client's collectDefaultMetrics (checked
 * by test/process-metrics-names.test.ts), so Node.js dashboards and alerts work unchanged;
 * --web.disable-exporter-metrics turns them off.
 */
export const PROCESS_METRICS = {
  cpuUser: {
    name: 'process_cpu_user_seconds',
    kind: 'counter',
    description: 'User CPU time spent by the process, in seconds',
    unit: 's',
    valueType: ValueType.DOUBLE,
    labels: [],
  },
  cpuSystem: {
    name: 'process_cpu_system_seconds',
    kind: 'counter',
    description: 'System CPU time spent by the process, in seconds',
    unit: 's',
    valueType: ValueType.DOUBLE,
    labels: [],
  },
  cpu: {
    name: 'process_cpu_seconds',
    kind: 'counter',
    description: 'User and system CPU time spent by the process, in seconds',
    unit: 's',
    valueType: ValueType.DOUBLE,
    labels: [],
  },
  startTime: {
    name: 'process_start_time_seconds',
    kind: 'gauge',
    description: 'When the process started, in seconds since the Unix epoch',
    unit: 's',
    valueType: ValueType.DOUBLE,
    labels: [],
  },
  residentMemory: {
    name: 'process_resident_memory_bytes',
    kind: 'gauge',
    description: 'Resident memory of the process, in bytes',
    unit: 'By',
    valueType: ValueType.INT,
    labels: [],
  },
  virtualMemory: {
    name: 'process_virtual_memory_bytes',
    kind: 'gauge',
    description: 'Virtual memory size of the process, in bytes',
    unit: 'By',
    valueType: ValueType.INT,
    labels: [],
  },
  dataSegment: {
    name: 'process_heap_bytes',
    kind: 'gauge',
    description: 'Data segment (VmData) of the process, in bytes',
    unit: 'By',
    valueType: ValueType.INT,
    labels: [],
  },
  openFds: {
    name: 'process_open_fds',
    kind: 'gauge',
    description: 'Open file descriptors',
    unit: '',
    valueType: ValueType.INT,
    labels: [],
  },
  maxFds: {
    name: 'process_max_fds',
    kind: 'gauge',
    description: 'Most file descriptors the process may open',
    unit: '',
    valueType: ValueType.INT,
    labels: [],
  },
  eventLoopLag: {
    name: 'nodejs_eventloop_lag_seconds',
    kind: 'gauge',
    description: 'How late a setImmediate callback ran during this collection, in seconds',
    unit: 's',
    valueType: ValueType.DOUBLE,
    labels: [],
  },
  eventLoopLagMin: {
    name: 'nodejs_eventloop_lag_min_seconds',
    kind: 'gauge',
    description: 'Event-loop delay since the previous collection: min',
    unit: 's',
    valueType: ValueType.DOUBLE,
    labels: [],
  },
  eventLoopLagMax: {
    name: 'nodejs_eventloop_lag_max_seconds',
    kind: 'gauge',
    description: 'Event-loop delay since the previous collection: max',
    unit: 's',
    valueType: ValueType.DOUBLE,
    labels: [],
  },
  eventLoopLagMean: {
    name: 'nodejs_eventloop_lag_mean_seconds',
    kind: 'gauge',
    description: 'Event-loop delay since the previous collection: mean',
    unit: 's',
    valueType: ValueType.DOUBLE,
    labels: [],
  },
  eventLoopLagStddev: {
    name: 'nodejs_eventloop_lag_stddev_seconds',
    kind: 'gauge',
    description: 'Event-loop delay since the previous collection: stddev',
    unit: 's',
    valueType: ValueType.DOUBLE,
    labels: [],
  },
  eventLoopLagP50: {
    name: 'nodejs_eventloop_lag_p50_seconds',
    kind: 'gauge',
    description: 'Event-loop delay since the previous collection: p50',
    unit: 's',
    valueType: ValueType.DOUBLE,
    labels: [],
  },
  eventLoopLagP90: {
    name: 'nodejs_eventloop_lag_p90_seconds',
    kind: 'gauge',
    description: 'Event-loop delay since the previous collection: p90',
    unit: 's',
    valueType: ValueType.DOUBLE,
    labels: [],
  },
  eventLoopLagP99: {
    name: 'nodejs_eventloop_lag_p99_seconds',
    kind: 'gauge',
    description: 'Event-loop delay since the previous collection: p99',
    unit: 's',
    valueType: ValueType.DOUBLE,
    labels: [],
  },
  heapTotal: {
    name: 'nodejs_heap_size_total_bytes',
    kind: 'gauge',
    description: 'V8 heap size, in bytes',
    unit: 'By',
    valueType: ValueType.INT,
    labels: [],
  },
  heapUsed: {
    name: 'nodejs_heap_size_used_bytes',
    kind: 'gauge',
    description: 'V8 heap in use, in bytes',
    unit: 'By',
    valueType: ValueType.INT,
    labels: [],
  },
  external: {
    name: 'nodejs_external_memory_bytes',
    kind: 'gauge',
    description: 'Memory of C++ objects bound to JavaScript objects, in bytes',
    unit: 'By',
    valueType: ValueType.INT,
    labels: [],
  },
  heapSpaceTotal: {
    name: 'nodejs_heap_space_size_total_bytes',
    kind: 'gauge',
    description: 'Size of a V8 heap space, in bytes',
    unit: 'By',
    valueType: ValueType.INT,
    labels: ['space'],
  },
  heapSpaceUsed: {
    name: 'nodejs_heap_space_size_used_bytes',
    kind: 'gauge',
    description: 'Bytes in use in a V8 heap space',
    unit: 'By',
    valueType: ValueType.INT,
    labels: ['space'],
  },
  heapSpaceAvailable: {
    name: 'nodejs_heap_space_size_available_bytes',
    kind: 'gauge',
    description: 'Bytes still available in a V8 heap space',
    unit: 'By',
    valueType: ValueType.INT,
    labels: ['space'],
  },
  versionInfo: {
    name: 'nodejs_version_info',
    kind: 'gauge',
    description: 'Node.js version, in the labels; always 1',
    unit: '',
    valueType: ValueType.INT,
    labels: ['version', 'major', 'minor', 'patch'],
  },
} as const satisfies Record<string, SelfMetric>;

/** The options for creating `metric` as an instrument (createObservableGauge(metric.name, instrumentOptions(metric))). */
export function instrumentOptions(metric: SelfMetric): MetricOptions {
  return { description: metric.description, unit: metric.unit, valueType: metric.valueType };
}

/** The descriptor of `metric` for MetricData built by hand (the collector's per-source metrics). */
export function metricDescriptor(metric: SelfMetric): MetricDescriptor {
  return { name: metric.name, description: metric.description, unit: metric.unit, valueType: metric.valueType };
}

/** The `outcome` label of custom_exporter_exports. */
export type ExportOutcome = 'success' | 'failure';

/**
 * Push outcomes, counted before the MeterProvider exists (its push readers report them) and observed by
 * custom_exporter_exports once it does.
 */
export class ExportCounts {
  readonly #counts = new Map<string, { exporter: string; outcome: string; count: number }>();

  readonly count = (exporter: string, outcome: ExportOutcome): void => {
    const key = `${exporter}\u0000${outcome}`;
    const entry = this.#counts.get(key) ?? { exporter, outcome, count: 0 };
    entry.count++;
    this.#counts.set(key, entry);
  };

  entries(): Iterable<{ exporter: string; outcome: string; count: number }> {
    return this.#counts.values();
  }
}

/** The instruments of the exporter's own metrics that other parts feed. */
export interface SelfInstruments {
  /** Counts one answered scrape by HTTP status code. */
  countScrape(code: number): void;
  /** custom_exporter_config_last_reload_*: the running source set adds the callbacks. */
  readonly reload: { readonly successful: ObservableGauge; readonly successTime: ObservableGauge };
}

/** Registers the metrics about the exporter as a whole on its own meter; `exports` when anything is pushed. */
export function registerSelfMetrics(meter: Meter, exports: ExportCounts | undefined): SelfInstruments {
  const { buildInfo, scrapes, configReloadSuccessful, configReloadSuccessTime } = SELF_METRICS;
  // custom_exporter_build_info{version,node_version} 1, the usual way to tell which build is running.
  meter
    .createObservableGauge(buildInfo.name, instrumentOptions(buildInfo))
    .addCallback((result) => result.observe(1, { version: VERSION, node_version: process.versions.node }));
  if (exports) {
    meter.createObservableCounter(SELF_METRICS.exports.name, instrumentOptions(SELF_METRICS.exports)).addCallback((result) => {
      for (const { exporter, outcome, count } of exports.entries()) result.observe(count, { exporter, outcome });
    });
  }
  const scrapeCounter = meter.createCounter(scrapes.name, instrumentOptions(scrapes));
  return {
    countScrape: (code) => scrapeCounter.add(1, { code: String(code) }),
    reload: {
      successful: meter.createObservableGauge(configReloadSuccessful.name, instrumentOptions(configReloadSuccessful)),
      successTime: meter.createObservableGauge(configReloadSuccessTime.name, instrumentOptions(configReloadSuccessTime)),
    },
  };
}
