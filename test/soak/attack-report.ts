// What `npm run soak -- --attack` runs next to the scrapers, and how it is judged (issue 11): the pod must stay
// alive for kubelet (/healthz p99 under its default 1 s probe timeout, no probe timed out), every scrape must be
// answered with the healthy sources up, and the peak RSS must stay under the chart's default 256 MiB memory limit.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { AttackSetup } from './attack-setup.ts';
import { type FloodResult, floodWrongPasswords } from './attackers.ts';
import { type HealthProbes, PROBE_TIMEOUT_MS, probeHealth } from './health-probe.ts';

const MEMORY_LIMIT_MIB = 256;

/** What the attack did and what the /healthz probe saw. */
export interface AttackRun {
  readonly description: string;
  readonly attackers: number;
  readonly probes: HealthProbes;
  readonly flood: FloodResult;
  /** This process's own event-loop delay p99, in ms. */
  readonly ownDelayP99Ms: number;
}

/** Starts the /healthz probe and the wrong-password flood; resolves with their results once `stop` aborted. */
export async function startAttack(setup: AttackSetup, origin: string, attackers: number, stop: AbortSignal): Promise<AttackRun> {
  // This process's own event loop: if it lagged, the latencies it measured are its own, not the exporter's.
  const ownDelay = monitorEventLoopDelay({ resolution: 10 });
  ownDelay.enable();
  const [probes, flood] = await Promise.all([
    probeHealth(`${origin}/healthz`, stop),
    floodWrongPasswords(`${origin}/metrics`, attackers, (n) => setup.wrongAuthorization(n), stop),
  ]);
  ownDelay.disable();
  return { description: setup.description, attackers, probes, flood, ownDelayP99Ms: ownDelay.percentile(99) / 1e6 };
}

export interface AttackFigures {
  readonly attack: AttackRun;
  readonly scrapes: number;
  /** How long each answered scrape took, in ms. */
  readonly answeredInMs: readonly number[];
  readonly failures: readonly string[];
  /** Problems found in successful scrapes (a healthy source down or without its value). */
  readonly unhealthy: readonly string[];
  /** The exporter's peak RSS (VmHWM) in MiB; when it exited, the last reading before. */
  readonly rssPeak: number;
  /** Why the exporter stopped before the end, if it did. */
  readonly exited: string | undefined;
  /** Whether it exited within 5 s of the SIGTERM that ended the soak (else it was killed). */
  readonly stoppedBySigterm: boolean;
  /** The exporter's JSON log (stderr). */
  readonly log: string;
}

/** Lines for the report: `ok` true or false is judged, undefined is information. */
export function attackChecks({
  attack,
  scrapes,
  answeredInMs,
  failures,
  unhealthy,
  rssPeak,
  exited,
  stoppedBySigterm,
  log,
}: AttackFigures): { ok?: boolean; line: string }[] {
  const { probes, flood } = attack;
  const sorted = probes.latencies.toSorted((a, b) => a - b);
  const at = (q: number) => quantile(sorted, q);
  const answered = answeredInMs.toSorted((a, b) => a - b);
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  const succeeded = scrapes - failures.length;
  const counts = (m: Map<unknown, number>) => [...m].map(([k, n]) => `${k} ×${n}`).join(', ') || 'none';
  return [
    { line: `attack: ${attack.description}` },
    {
      line: attack.attackers
        ? `wrong-password flood, ${attack.attackers} clients: answers ${counts(flood.statuses)}; no answer: ${counts(flood.errors)}`
        : 'no wrong-password flood',
    },
    { ok: exited === undefined, line: exited ?? 'the exporter ran to the end' },
    {
      ok: sorted.length > 0 && at(0.99) < PROBE_TIMEOUT_MS && probes.timeouts === 0 && probes.failures.length === 0,
      line:
        `/healthz: ${sorted.length + probes.failures.length} probes, p50 ${ms(at(0.5))}, p99 ${ms(at(0.99))}, ` +
        `max ${ms(sorted.at(-1) ?? Number.NaN)}, ${probes.timeouts} timed out (${PROBE_TIMEOUT_MS} ms), ` +
        `${probes.failures.length} failed${probes.failures.length ? ` (${[...new Set(probes.failures)].slice(0, 3).join('; ')})` : ''}`,
    },
    {
      ok: succeeded > 0 && failures.length === 0,
      line:
        `scrapes: ${succeeded} succeeded, ${failures.length} failed${failures.length ? ` (${summary(failures)})` : ''}; ` +
        (answered.length ? `answered in p50 ${ms(quantile(answered, 0.5))}, max ${ms(answered.at(-1)!)}` : 'none answered'),
    },
    {
      ok: succeeded > 0 && unhealthy.length === 0,
      line:
        `healthy sources up with their value in ${succeeded - unhealthy.length} of ${succeeded} successful scrapes` +
        (unhealthy.length ? ` (${summary(unhealthy)})` : ''),
    },
    {
      ok: rssPeak < MEMORY_LIMIT_MIB,
      line: `peak RSS (VmHWM) ${exited ? 'at least ' : ''}${rssPeak.toFixed(1)} MiB, limit ${MEMORY_LIMIT_MIB} MiB`,
    },
    { line: `failed collections the exporter logged: ${loggedFailures(log)}` },
    ...(exited ? [] : [{ line: `the exporter ${stoppedBySigterm ? 'exited' : 'did not exit (it was killed)'} within 5 s of SIGTERM` }]),
    {
      line: `this process's own event-loop delay p99 ${ms(attack.ownDelayP99Ms)} (if large, part of the latencies above is the soak's own)`,
    },
  ];
}

/** The value at quantile `q` of ascending `sorted`; NaN when empty. */
function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/** Which sources the exporter logged as failing, and why (it logs a failure when it starts or changes). */
function loggedFailures(log: string): string {
  const failures = new Map<string, number>();
  for (const line of log.split('\n')) {
    if (!line.includes('"msg":"source collection failed"')) continue;
    const { source, err } = JSON.parse(line) as { source: string; err: string };
    const key = `${source}: ${err.slice(0, 160)}`;
    failures.set(key, (failures.get(key) ?? 0) + 1);
  }
  return [...failures].map(([k, n]) => `${k} ×${n}`).join('; ') || 'none';
}

/** The distinct messages with their counts, the most frequent first. */
function summary(messages: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const m of messages) counts.set(m, (counts.get(m) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([m, n]) => `${m} ×${n}`)
    .join('; ');
}
