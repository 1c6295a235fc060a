// Probes /healthz the way kubelet's liveness probe does: periodically, each probe given up after 1 s (the default
// timeoutSeconds), a failed or late answer counting against the pod.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

export const PROBE_TIMEOUT_MS = 1000;
const PROBE_PERIOD_MS = 100;

export interface HealthProbes {
  /** Milliseconds per probe; a probe that timed out counts as PROBE_TIMEOUT_MS. */
  readonly latencies: number[];
  /** Probes not answered within PROBE_TIMEOUT_MS. */
  timeouts: number;
  /** Probes answered with something other than 200, or failed otherwise (connection refused, reset). */
  readonly failures: string[];
}

/** Probes `url` every PROBE_PERIOD_MS (one probe at a time) until `stop` aborts. */
export async function probeHealth(url: string, stop: AbortSignal): Promise<HealthProbes> {
  const probes: HealthProbes = { latencies: [], timeouts: 0, failures: [] };
  while (!stop.aborted) {
    const started = performance.now();
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      await res.text();
      if (res.status !== 200) probes.failures.push(`status ${res.status}`);
      const latency = performance.now() - started;
      // An answer that beat the abort timer by a hair is still too late for kubelet.
      if (latency >= PROBE_TIMEOUT_MS) probes.timeouts++;
      probes.latencies.push(latency);
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') {
        probes.timeouts++;
        probes.latencies.push(PROBE_TIMEOUT_MS);
      } else probes.failures.push((err as Error).message);
    }
    await sleep(Math.max(0, started + PROBE_PERIOD_MS - performance.now()));
  }
  return probes;
}
