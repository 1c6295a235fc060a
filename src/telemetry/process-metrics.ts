import { readdir, readFile } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import type { BatchObservableResult, Meter, Observable } from '@opentelemetry/api';
import { instrumentOptions, PROCESS_METRICS, type SelfMetric } from './self-metrics.ts';

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

  // One instrument per catalog entry, created as the kind the catalog gives it.
  const i = Object.fromEntries(
    Object.entries(PROCESS_METRICS).map(([key, metric]: [string, SelfMetric]) => [
      key,
      metric.kind === 'counter'
        ? meter.createObservableCounter(metric.name, instrumentOptions(metric))
        : meter.createObservableGauge(metric.name, instrumentOptions(metric)),
    ]),
  ) as Record<keyof typeof PROCESS_METRICS, Observable>;
  const lagStats = [
    [i.eventLoopLagMin, (h: EventLoopDelay) => h.min],
    [i.eventLoopLagMax, (h: EventLoopDelay) => h.max],
    [i.eventLoopLagMean, (h: EventLoopDelay) => h.mean],
    [i.eventLoopLagStddev, (h: EventLoopDelay) => h.stddev],
    [i.eventLoopLagP50, (h: EventLoopDelay) => h.percentile(50)],
    [i.eventLoopLagP90, (h: EventLoopDelay) => h.percentile(90)],
    [i.eventLoopLagP99, (h: EventLoopDelay) => h.percentile(99)],
  ] as const;

  const callback = async (result: BatchObservableResult) => {
    const immediateLag = setImmediateDelaySeconds();
    maxFdsOnce ??= maxOpenFiles();
    const procFs = readProcFs(maxFdsOnce);
    const usage = process.cpuUsage();
    result.observe(i.cpuUser, usage.user / 1e6);
    result.observe(i.cpuSystem, usage.system / 1e6);
    result.observe(i.cpu, (usage.user + usage.system) / 1e6);
    result.observe(i.startTime, startSeconds);
    const memory = process.memoryUsage();
    result.observe(i.residentMemory, memory.rss);
    result.observe(i.heapTotal, memory.heapTotal);
    result.observe(i.heapUsed, memory.heapUsed);
    result.observe(i.external, memory.external);
    for (const space of getHeapSpaceStatistics()) {
      const attributes = { space: space.space_name.replace(/_space$/, '') };
      result.observe(i.heapSpaceTotal, space.space_size, attributes);
      result.observe(i.heapSpaceUsed, space.space_used_size, attributes);
      result.observe(i.heapSpaceAvailable, space.space_available_size, attributes);
    }
    result.observe(i.versionInfo, 1, versionLabels);
    // An empty histogram (no timer tick since the last reset) has no statistics; leave them out rather than report
    // its placeholder values.
    if (eventLoop.count > 0) for (const [instrument, stat] of lagStats) result.observe(instrument, stat(eventLoop) / 1e9);
    eventLoop.reset();
    result.observe(i.eventLoopLag, await immediateLag);
    const proc = await procFs;
    if (proc.virtual !== undefined) result.observe(i.virtualMemory, proc.virtual);
    if (proc.data !== undefined) result.observe(i.dataSegment, proc.data);
    if (proc.openFds !== undefined) result.observe(i.openFds, proc.openFds);
    if (proc.maxFds !== undefined) result.observe(i.maxFds, proc.maxFds);
  };
  const observables = Object.values(i);
  meter.addBatchObservableCallback(callback, observables);
  return () => {
    meter.removeBatchObservableCallback(callback, observables);
    eventLoop.disable();
  };
}

type EventLoopDelay = ReturnType<typeof monitorEventLoopDelay>;

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
