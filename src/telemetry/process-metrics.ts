import { readdir, readFile } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Meter } from '@opentelemetry/api';
import { instrumentOptions, PROCESS_METRICS, type SelfMetric } from './self-metrics.ts';

const RESOLUTION_MS = 10;

/**
 * The exporter's own process metrics, under the names Prometheus client libraries use
 * (process_*, nodejs_*), so existing dashboards and alerts work unchanged.
 */
export function registerProcessMetrics(meter: Meter): () => void {
  const eventLoop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  eventLoop.enable();
  const startSeconds = Math.round(Date.now() / 1000 - process.uptime());

  const gauge = (metric: SelfMetric) => meter.createObservableGauge(metric.name, instrumentOptions(metric));
  const cpu = meter.createObservableCounter(PROCESS_METRICS.cpu.name, instrumentOptions(PROCESS_METRICS.cpu));
  const rss = gauge(PROCESS_METRICS.residentMemory);
  const start = gauge(PROCESS_METRICS.startTime);
  const openFds = gauge(PROCESS_METRICS.openFds);
  const maxFds = gauge(PROCESS_METRICS.maxFds);
  const heapUsed = gauge(PROCESS_METRICS.heapUsed);
  const heapTotal = gauge(PROCESS_METRICS.heapTotal);
  const lag = gauge(PROCESS_METRICS.eventLoopLag);

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
