import { readdir, readFile } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type Meter, ValueType } from '@opentelemetry/api';

const RESOLUTION_MS = 10;

/**
 * The exporter's own process metrics, under the names Prometheus client libraries use
 * (process_*, nodejs_*), so existing dashboards and alerts work unchanged.
 */
export function registerProcessMetrics(meter: Meter): () => void {
  const eventLoop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  eventLoop.enable();
  const startSeconds = Math.round(Date.now() / 1000 - process.uptime());

  const cpu = meter.createObservableCounter('process_cpu_seconds', {
    description: 'Total user and system CPU time spent in seconds',
    unit: 's',
  });
  const rss = meter.createObservableGauge('process_resident_memory_bytes', {
    description: 'Resident memory size in bytes',
    unit: 'By',
    valueType: ValueType.INT,
  });
  const start = meter.createObservableGauge('process_start_time_seconds', {
    description: 'Start time of the process since unix epoch in seconds',
    unit: 's',
  });
  const openFds = meter.createObservableGauge('process_open_fds', {
    description: 'Number of open file descriptors',
    valueType: ValueType.INT,
  });
  const maxFds = meter.createObservableGauge('process_max_fds', {
    description: 'Maximum number of open file descriptors',
    valueType: ValueType.INT,
  });
  const heapUsed = meter.createObservableGauge('nodejs_heap_size_used_bytes', {
    description: 'Process heap size used from Node.js in bytes',
    unit: 'By',
    valueType: ValueType.INT,
  });
  const heapTotal = meter.createObservableGauge('nodejs_heap_size_total_bytes', {
    description: 'Process heap size from Node.js in bytes',
    unit: 'By',
    valueType: ValueType.INT,
  });
  const lag = meter.createObservableGauge('nodejs_eventloop_lag_seconds', {
    description: 'Event loop delay since the previous collection, by statistic (mean, p50, p99, max)',
    unit: 's',
  });

  const callback = async (result: Parameters<Parameters<Meter['addBatchObservableCallback']>[0]>[0]) => {
    const usage = process.cpuUsage();
    const memory = process.memoryUsage();
    result.observe(cpu, (usage.user + usage.system) / 1e6);
    result.observe(rss, memory.rss);
    result.observe(heapUsed, memory.heapUsed);
    result.observe(heapTotal, memory.heapTotal);
    result.observe(start, startSeconds);
    for (const [stat, nanos] of [
      ['mean', eventLoop.mean],
      ['p50', eventLoop.percentile(50)],
      ['p99', eventLoop.percentile(99)],
      ['max', eventLoop.max],
    ] as const) {
      // The sampling timer's own period is part of every reading: report only the delay beyond it.
      if (Number.isFinite(nanos)) result.observe(lag, Math.max(0, nanos / 1e9 - RESOLUTION_MS / 1000), { stat });
    }
    eventLoop.reset();
    const fds = await fileDescriptors();
    if (fds) {
      result.observe(openFds, fds.open);
      result.observe(maxFds, fds.max);
    }
  };
  const observables = [cpu, rss, start, openFds, maxFds, heapUsed, heapTotal, lag];
  meter.addBatchObservableCallback(callback, observables);
  return () => {
    meter.removeBatchObservableCallback(callback, observables);
    eventLoop.disable();
  };
}

/** Open and maximum file descriptors from /proc (Linux only; elsewhere the two gauges are absent). */
async function fileDescriptors(): Promise<{ open: number; max: number } | undefined> {
  try {
    const [entries, limits] = await Promise.all([readdir('/proc/self/fd'), readFile('/proc/self/limits', 'utf8')]);
    const max = /^Max open files\s+(\d+)/m.exec(limits)?.[1];
    return max === undefined ? undefined : { open: entries.length, max: Number(max) };
  } catch {
    return undefined;
  }
}
