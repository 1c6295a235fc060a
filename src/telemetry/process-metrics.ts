import { readdir, readFile } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { type BatchObservableResult, type Meter, type Observable, ValueType } from '@opentelemetry/api';

// prom-client's default sampling period for the event-loop histogram (eventLoopMonitoringPrecision), so the
// nodejs_eventloop_lag_*_seconds values mean what they mean for a prom-client application (issue 10).
const RESOLUTION_MS = 10;

/**
 * The exporter's own process metrics, named, typed and labelled exactly as prom-client's collectDefaultMetrics
 * (checked against it by test/process-metrics-names.test.ts), so Node.js dashboards and alerts work unchanged.
 * Provided are whole prom-client families: CPU, start time, memory, file descriptors, event-loop lag, heap and heap
 * spaces, version. Not provided: active handles/requests/resources and the GC duration histogram.
 * Counters are registered without `_total`: the Prometheus writer appends it, and OTLP keeps the bare name.
 */
export function registerProcessMetrics(meter: Meter): () => void {
  const eventLoop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  eventLoop.enable();
  const startSeconds = Math.round(Date.now() / 1000 - process.uptime());
  // Read once, on the first collection: the limit is set before the process starts (prom-client reads it once too).
  let maxFdsOnce: Promise<number | undefined> | undefined;
  const [major, minor, patch] = process.versions.node.split('.');
  const versionLabels = { version: process.version, major: major ?? '', minor: minor ?? '', patch: patch ?? '' };

  const counter = (name: string, description: string) => meter.createObservableCounter(name, { description, unit: 's' });
  const gauge = (name: string, description: string, unit: string, valueType = ValueType.DOUBLE) =>
    meter.createObservableGauge(name, { description, unit, valueType });
  const bytes = (name: string, description: string) => gauge(name, description, 'By', ValueType.INT);
  const count = (name: string, description: string) => gauge(name, description, '', ValueType.INT);

  const cpuUser = counter('process_cpu_user_seconds', 'User CPU time spent by the process, in seconds');
  const cpuSystem = counter('process_cpu_system_seconds', 'System CPU time spent by the process, in seconds');
  const cpu = counter('process_cpu_seconds', 'User and system CPU time spent by the process, in seconds');
  const start = gauge('process_start_time_seconds', 'When the process started, in seconds since the Unix epoch', 's');
  const rss = bytes('process_resident_memory_bytes', 'Resident memory of the process, in bytes');
  const virtual = bytes('process_virtual_memory_bytes', 'Virtual memory size of the process, in bytes');
  const dataSegment = bytes('process_heap_bytes', 'Data segment (VmData) of the process, in bytes');
  const openFds = count('process_open_fds', 'Open file descriptors');
  const maxFds = count('process_max_fds', 'Most file descriptors the process may open');
  const lag = gauge('nodejs_eventloop_lag_seconds', 'How late a setImmediate callback ran during this collection, in seconds', 's');
  const lagStats = (['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99'] as const).map(
    (stat) =>
      [stat, gauge(`nodejs_eventloop_lag_${stat}_seconds`, `Event-loop delay since the previous collection: ${stat}`, 's')] as const,
  );
  const heapTotal = bytes('nodejs_heap_size_total_bytes', 'V8 heap size, in bytes');
  const heapUsed = bytes('nodejs_heap_size_used_bytes', 'V8 heap in use, in bytes');
  const external = bytes('nodejs_external_memory_bytes', 'Memory of C++ objects bound to JavaScript objects, in bytes');
  const spaceTotal = bytes('nodejs_heap_space_size_total_bytes', 'Size of a V8 heap space, in bytes');
  const spaceUsed = bytes('nodejs_heap_space_size_used_bytes', 'Bytes in use in a V8 heap space');
  const spaceAvailable = bytes('nodejs_heap_space_size_available_bytes', 'Bytes still available in a V8 heap space');
  const version = count('nodejs_version_info', 'Node.js version, in the labels; always 1');

  const callback = async (result: BatchObservableResult) => {
    const immediateLag = setImmediateDelaySeconds();
    maxFdsOnce ??= maxOpenFiles();
    const procFs = readProcFs(maxFdsOnce);
    const usage = process.cpuUsage();
    result.observe(cpuUser, usage.user / 1e6);
    result.observe(cpuSystem, usage.system / 1e6);
    result.observe(cpu, (usage.user + usage.system) / 1e6);
    result.observe(start, startSeconds);
    const memory = process.memoryUsage();
    result.observe(rss, memory.rss);
    result.observe(heapTotal, memory.heapTotal);
    result.observe(heapUsed, memory.heapUsed);
    result.observe(external, memory.external);
    for (const space of getHeapSpaceStatistics()) {
      const attributes = { space: space.space_name.replace(/_space$/, '') };
      result.observe(spaceTotal, space.space_size, attributes);
      result.observe(spaceUsed, space.space_used_size, attributes);
      result.observe(spaceAvailable, space.space_available_size, attributes);
    }
    result.observe(version, 1, versionLabels);
    // An empty histogram (no timer tick since the last reset) has no statistics; leave them out rather than report
    // its placeholder values.
    if (eventLoop.count > 0) {
      const stats = {
        min: eventLoop.min,
        max: eventLoop.max,
        mean: eventLoop.mean,
        stddev: eventLoop.stddev,
        p50: eventLoop.percentile(50),
        p90: eventLoop.percentile(90),
        p99: eventLoop.percentile(99),
      };
      for (const [stat, instrument] of lagStats) result.observe(instrument, stats[stat] / 1e9);
    }
    eventLoop.reset();
    result.observe(lag, await immediateLag);
    const proc = await procFs;
    if (proc.virtual !== undefined) result.observe(virtual, proc.virtual);
    if (proc.data !== undefined) result.observe(dataSegment, proc.data);
    if (proc.openFds !== undefined) result.observe(openFds, proc.openFds);
    if (proc.maxFds !== undefined) result.observe(maxFds, proc.maxFds);
  };
  const observables: Observable[] = [
    cpuUser,
    cpuSystem,
    cpu,
    start,
    rss,
    virtual,
    dataSegment,
    openFds,
    maxFds,
    lag,
    ...lagStats.map(([, instrument]) => instrument),
    heapTotal,
    heapUsed,
    external,
    spaceTotal,
    spaceUsed,
    spaceAvailable,
    version,
  ];
  meter.addBatchObservableCallback(callback, observables);
  return () => {
    meter.removeBatchObservableCallback(callback, observables);
    eventLoop.disable();
  };
}

/** How long a setImmediate callback waits for the event loop right now, in seconds. */
function setImmediateDelaySeconds(): Promise<number> {
  const queued = process.hrtime.bigint();
  return new Promise((resolve) => setImmediate(() => resolve(Number(process.hrtime.bigint() - queued) / 1e9)));
}

interface ProcFs {
  virtual?: number;
  data?: number;
  openFds?: number;
  maxFds?: number;
}

/** The soft limit on open files, from /proc (Linux only). */
async function maxOpenFiles(): Promise<number | undefined> {
  try {
    const max = /^Max open files\s+(\d+)/m.exec(await readFile('/proc/self/limits', 'utf8'))?.[1];
    return max === undefined ? undefined : Number(max);
  } catch {
    return undefined;
  }
}

/** Virtual size, data segment and file descriptors from /proc (Linux only; elsewhere those gauges are absent). */
async function readProcFs(maxFdsOnce: Promise<number | undefined>): Promise<ProcFs> {
  const [status, fds, max] = await Promise.all([
    readFile('/proc/self/status', 'utf8').catch(() => undefined),
    readdir('/proc/self/fd').catch(() => undefined),
    maxFdsOnce,
  ]);
  const kibibytes = (field: RegExp) => {
    const value = status === undefined ? undefined : field.exec(status)?.[1];
    return value === undefined ? undefined : Number(value) * 1024;
  };
  // Both or neither: a dashboard divides one by the other.
  const descriptors = fds !== undefined && max !== undefined ? { openFds: fds.length, maxFds: max } : {};
  return { virtual: kibibytes(/^VmSize:\s+(\d+) kB/m), data: kibibytes(/^VmData:\s+(\d+) kB/m), ...descriptors };
}
