// Soak: concurrent scrapers against the built exporter for a while; reports RSS and failed scrapes.
// Fails when a scrape fails, when the JS heap's low point (what survives garbage collection) grows by 10 % or more
// from the first quarter after warm-up to the last, or when RSS grows by 10 % or more once V8's memory has settled.
// Under sustained load V8 doubles its young generation a few times, each step later than the last (here at ~4, 11,
// 30 and 110 s of 1,000 scrapes/s), and RSS follows each step for ~25 s without anything being leaked; so RSS is
// judged from 30 s after the last step, when that leaves at least a quarter of the run. A one-minute run (CI)
// usually judges the heap only and says so; the 10-minute run judges both.
//   npm run soak -- --duration=10m      (CI runs it with --duration=60s)
// With --attack (issue 11) the exporter is attacked meanwhile (see attack-setup.ts and attack-report.ts), and the
// verdict is about staying alive and serving instead of growth.
//   npm run soak -- --attack --duration=2m [--attacks=flood,fifo,huge] [--attackers=20]
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { parseDuration } from '../../src/duration.ts';
import { spawnCli } from '../support/cli.ts';
import { attackChecks, startAttack } from './attack-report.ts';
import { ATTACKS, type Attack, type AttackSetup, prepareAttack } from './attack-setup.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '1m' },
    scrapers: { type: 'string', default: '8' },
    config: { type: 'string' },
    attack: { type: 'boolean', default: false },
    attacks: { type: 'string' }, // implies --attack; empty: none, the attack mode's control run
    attackers: { type: 'string', default: '20' },
  },
});
const durationMs = parseDuration(values.duration) ?? 0;
if (!durationMs) throw new Error(`--duration: "${values.duration}" is not a duration such as 30s or 10m`);
const scrapers = Number(values.scrapers);
const warmupMs = Math.min(60_000, durationMs / 3);
const attackMode = values.attack || values.attacks !== undefined;
if (attackMode && values.config) throw new Error('--attack brings its own config: leave out --config');
const attacks = new Set(values.attacks?.split(',').filter(Boolean) ?? ATTACKS);
for (const a of attacks) if (!ATTACKS.includes(a as Attack)) throw new Error(`--attacks: "${a}" is not one of ${ATTACKS.join(', ')}`);
const attack: AttackSetup | undefined = attackMode ? await prepareAttack(attacks as Set<Attack>) : undefined;
const attackers = attacks.has('flood') ? Number(values.attackers) : 0;
if (!Number.isInteger(attackers) || attackers < 0) throw new Error(`--attackers: "${values.attackers}" is not a number of clients`);

const cli = spawnCli([...(values.config ? [`--config.file=${values.config}`] : []), ...(attack?.args ?? [])]);
let exited: string | undefined;
// A dead exporter cannot be scraped or attacked any more: the loops stop rather than spin on refused connections.
const gone = new AbortController();
void cli.exited.then((code) => {
  exited = `the exporter exited (${code === null ? 'killed by a signal' : `code ${code}`})`;
  gone.abort();
});
const MiB = 1024 * 1024;
/** A memory figure of the exporter's /proc status, in MiB: VmRSS now, VmHWM the peak so far. */
const procMiB = (field: 'VmRSS' | 'VmHWM') =>
  Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${cli.pid}/status`, 'utf8'))![1]) / 1024;
const rss = () => procMiB('VmRSS');

const url = `${await cli.listening(10_000)}/metrics`;

const started = Date.now();
const rssAtStart = rss();
// Under attack the exporter may die (out of memory, say): its peak so far is read every second to be reported then.
let peakSoFar = rssAtStart;
const peakReader =
  attack &&
  setInterval(() => {
    try {
      peakSoFar = procMiB('VmHWM');
    } catch {
      // it exited meanwhile: keep the last reading
    }
  }, 1000);
let scrapes = 0;
const failures: string[] = [];
type Sample = { at: number; rss: number; heapUsed: number; heapTotal: number };
const samples: Sample[] = [];

const gauge = (body: string, name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, 'm').exec(body)?.[1] ?? NaN) / MiB;
// The exporter's own heap gauges, read from the bodies the scrapers get anyway (at most one sample per 100 ms).
function recordSample(body: string): void {
  const at = Date.now() - started;
  if (samples.length > 0 && at - samples[samples.length - 1]!.at < 100) return;
  const heapUsed = gauge(body, 'nodejs_heap_size_used_bytes');
  const heapTotal = gauge(body, 'nodejs_heap_size_total_bytes');
  if (!Number.isNaN(heapUsed) && !Number.isNaN(heapTotal)) samples.push({ at, rss: rss(), heapUsed, heapTotal });
}

// Under attack, scrapes are sent as Prometheus sends them (credentials, its default 10 s timeout) and judged by the
// healthy sources; answers that arrive are counted apart from those where a healthy source was missing.
const SCRAPE_TIMEOUT_S = 10;
const scrapeHeaders: Record<string, string> = attack
  ? { 'Accept-Encoding': 'gzip', authorization: attack.authorization, 'X-Prometheus-Scrape-Timeout-Seconds': String(SCRAPE_TIMEOUT_S) }
  : { 'Accept-Encoding': 'gzip' };
const unhealthy: string[] = [];
const answeredInMs: number[] = [];
async function scraper(): Promise<void> {
  while (Date.now() - started < durationMs && !exited) {
    const sent = performance.now();
    try {
      const res = await fetch(url, { headers: scrapeHeaders, ...(attack && { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_S * 1000) }) });
      const body = await res.text();
      if (attack) answeredInMs.push(performance.now() - sent);
      const problem = res.status === 200 && attack?.healthProblem(body);
      if (res.status !== 200 || (!attack && !body.includes('random_number'))) failures.push(`status ${res.status}`);
      else if (problem) unhealthy.push(problem);
      else if (!attack) recordSample(body);
    } catch (err) {
      failures.push(exited ?? (err as Error).message);
    }
    scrapes++;
  }
}
const attacking =
  attack && startAttack(attack, new URL(url).origin, attackers, AbortSignal.any([AbortSignal.timeout(durationMs), gone.signal]));
await Promise.all(Array.from({ length: scrapers }, scraper));
const attacked = await attacking;
const seconds = (Date.now() - started) / 1000;
const exitedEarly = exited;
const rssAtEnd = exited ? Number.NaN : rss();
const rssPeak = exited ? peakSoFar : procMiB('VmHWM');
if (peakReader) clearInterval(peakReader);
cli.signal('SIGTERM');
const stoppedBySigterm = attack ? await stopExporter() : false;
await attack?.close();

/** Waits for the exporter to exit after SIGTERM, and kills it when it has not after 5 s, so the soak always ends. */
async function stopExporter(): Promise<boolean> {
  const inTime = await Promise.race([cli.exited.then(() => true), sleep(5000).then(() => false)]);
  if (!inTime) await cli.kill();
  return inTime;
}

const median = (xs: number[]) => xs.toSorted((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const growth = (from: number, to: number) => (to - from) / from;
const pct = (n: number) => `${n >= 0 ? '+' : ''}${(n * 100).toFixed(1)} %`;
const f = (n: number) => n.toFixed(1);
/** The samples of the first and of the last quarter of the run from `from` on. */
function quarters(from: number): [Sample[], Sample[]] {
  const quarter = (durationMs - from) / 4;
  return [samples.filter((s) => s.at >= from && s.at < from + quarter), samples.filter((s) => s.at >= durationMs - quarter)];
}
const checks: { ok?: boolean; line: string }[] = []; // ok undefined: reported, not judged

if (attacked) {
  // Under attack the verdict is about staying alive and serving; memory growth is for the plain soak.
  checks.push(
    ...attackChecks({
      attack: attacked,
      scrapes,
      answeredInMs,
      failures,
      unhealthy,
      rssPeak,
      exited: exitedEarly,
      stoppedBySigterm,
      log: cli.stderr(),
    }),
  );
} else if (samples.length === 0) {
  checks.push({ ok: false, line: 'no memory samples: no scrape succeeded with nodejs_heap_size_* in its body' });
} else {
  // JS leaks: the lowest heap-used reading (what survived garbage collection) after warm-up.
  const [first, last] = quarters(warmupMs);
  const low = (ss: Sample[]) => Math.min(...ss.map((s) => s.heapUsed));
  const g = growth(low(first), low(last));
  checks.push({
    ok: g < 0.1,
    line: `JS heap used, low point: ${f(low(first))} MiB in the first quarter after ${(warmupMs / 1000).toFixed(0)} s warm-up, ${f(low(last))} MiB in the last (${pct(g)})`,
  });

  // Everything else, RSS: from 30 s after V8's heap reservation last grew (RSS follows a new reservation in
  // steps over ~25 s as its pages get used).
  const reservedMax = Math.max(...samples.map((s) => s.heapTotal));
  const settledAt = Math.max(warmupMs, samples.find((s) => s.heapTotal >= reservedMax - 2)!.at + 30_000);
  const steps = samples
    .filter((s, i) => i > 0 && s.heapTotal > samples[i - 1]!.heapTotal + 4)
    .map((s) => `${f(s.at / 1000)} s → ${s.heapTotal.toFixed(0)} MiB`);
  const grew = `V8 heap reservation grew at ${steps.join(', ') || 'no point'}; `;
  if (durationMs - settledAt >= durationMs / 4) {
    const [a, b] = quarters(settledAt).map((ss) => median(ss.map((s) => s.rss))) as [number, number];
    checks.push({
      ok: growth(a, b) < 0.1,
      line: `${grew}RSS from ${f(settledAt / 1000)} s on, median of the first and last quarter: ${f(a)} → ${f(b)} MiB (${pct(growth(a, b))})`,
    });
  } else {
    checks.push({ line: `${grew}it settled too late (${f(settledAt / 1000)} s) to judge RSS growth: run longer` });
  }
}

console.log(
  `soak: ${seconds.toFixed(0)} s, ${scrapers} scrapers, ${scrapes} scrapes (${(scrapes / seconds).toFixed(0)}/s), ${failures.length} failed`,
);
const peak = attack
  ? `${exitedEarly ? 'at least ' : ''}${f(rssPeak)} MiB (VmHWM)`
  : `${f(Math.max(rssAtStart, rssAtEnd, ...samples.map((s) => s.rss)))} MiB`;
console.log(`RSS: start ${f(rssAtStart)} MiB, end ${exitedEarly ? '(exited)' : `${f(rssAtEnd)} MiB`}, peak ${peak}`);
for (const c of checks) console.log(`${c.ok === undefined ? 'n/a ' : c.ok ? 'ok  ' : 'FAIL'} ${c.line}`);
if (failures.length > 0) console.log(`failures: ${[...new Set(failures)].slice(0, 5).join('; ')}`);
const ok = failures.length === 0 && checks.every((c) => c.ok !== false);
const reasons = attack ? checks.filter((c) => c.ok === false).map((c) => c.line) : [];
console.log(ok ? 'soak: ok' : `soak: FAILED${reasons.length ? `: ${reasons.join('; ')}` : ''}`);
process.exitCode = ok ? 0 : 1;
