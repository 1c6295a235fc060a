// npm run bench [-- --quick] [--sizes=1000,10000] [--peers=custom-exporter,prom-client] [--out=FILE]
// npm run bench -- --formats [--quick] [--sizes=10000,100000] [--out=FILE]
// npm run bench -- --probe [--quick] [--out=FILE]: /probe against the same fetch as a plain source (bench/probe.ts).
// npm run bench -- --sql [--quick] [--duration=10m]: a PostgreSQL source against a bare pg script, or its memory over time (bench/sql.ts)
//
// Starts each peer in its own process for each N, scrapes them interleaved over loopback, and prints a
// markdown table of figures and ratios to prom-client. bench/RESULTS.md describes the method and a recorded run.
// With --formats, only custom-exporter runs, and each N is scraped in each exposition format it negotiates (text
// 0.0.4, OpenMetrics, protobuf), plain and gzip: p50 and the exporter's CPU per scrape, with ratios to text 0.0.4.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { parseDuration } from '../src/duration.ts';

// Must match bench/workload.mjs.
const GAUGE = 'bench_gauge';
const COUNTER = 'bench_counter';

interface Ready {
  readonly port: number;
  /** The process that serves (custom-exporter's peer is a wrapper around the CLI). */
  readonly pid: number;
}

const PEERS = {
  'custom-exporter': new URL('./peers/custom-exporter.mjs', import.meta.url).pathname,
  'prom-client': new URL('./peers/prom-client.mjs', import.meta.url).pathname,
  'otel-stock': new URL('./peers/otel-stock.mjs', import.meta.url).pathname,
} as const;
type PeerName = keyof typeof PEERS;
const BASELINE: PeerName = 'prom-client';
const CONCURRENCY = 8;

interface Plan {
  readonly warmup: number;
  /** Sequential scrapes per peer, in `rounds` interleaved batches. */
  readonly sequential: number;
  readonly rounds: number;
  /** Seconds each concurrent run issues new scrapes; the ones in flight then finish (bounded by drainS). */
  readonly windowS: number;
  readonly drainS: number;
}

function plan(series: number, quick: boolean): Plan {
  if (quick) {
    if (series <= 1_000) return { warmup: 20, sequential: 40, rounds: 2, windowS: 1, drainS: 5 };
    if (series <= 10_000) return { warmup: 3, sequential: 10, rounds: 2, windowS: 2, drainS: 10 };
    return { warmup: 1, sequential: 3, rounds: 1, windowS: 3, drainS: 30 };
  }
  if (series <= 1_000) return { warmup: 50, sequential: 200, rounds: 4, windowS: 3, drainS: 10 };
  if (series <= 10_000) return { warmup: 5, sequential: 30, rounds: 3, windowS: 5, drainS: 20 };
  return { warmup: 2, sequential: 8, rounds: 2, windowS: 8, drainS: 45 };
}

interface Options {
  readonly quick: boolean;
  /** The format dimension instead of the peer comparison. */
  readonly formats: boolean;
  readonly probe: boolean;
  readonly sizes: number[];
  readonly peers: PeerName[];
  readonly out: string | undefined;
}

function parseArgs(argv: string[]): Options {
  let quick = false;
  let formats = false;
  let probe = false;
  let sizes: number[] | undefined;
  let peers = Object.keys(PEERS) as PeerName[];
  let out: string | undefined;
  for (const arg of argv) {
    const [key, value = ''] = arg.split('=', 2) as [string, string?];
    if (key === '--quick') quick = true;
    else if (key === '--formats') formats = true;
    else if (key === '--probe') probe = true;
    else if (key === '--sizes') sizes = value.split(',').map((s) => Number(s.replace(/k$/i, '000')));
    else if (key === '--peers') peers = value.split(',') as PeerName[];
    else if (key === '--out') out = value;
    else
      throw new Error(
        `unknown argument ${arg} (--quick, --formats, --probe, --sizes=1000,10000, --peers=${Object.keys(PEERS).join(',')}, --out=FILE)`,
      );
  }
  sizes ??= formats ? [10_000, 100_000] : [1_000, 10_000, 100_000];
  for (const p of peers) if (!(p in PEERS)) throw new Error(`unknown peer ${p}`);
  for (const n of sizes) if (!Number.isInteger(n) || n <= 0) throw new Error(`bad size ${n}`);
  return { quick, formats, probe, sizes, peers, out };
}

interface Peer {
  readonly name: PeerName;
  readonly child: ChildProcess;
  readonly port: number;
  readonly pid: number;
  readonly agent: Agent;
}

async function startPeer(name: PeerName, series: number): Promise<Peer> {
  const child = spawn(process.execPath, ['--max-old-space-size=8192', PEERS[name], String(series)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  const lines = createInterface({ input: child.stdout! });
  const ready = await new Promise<Ready>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before it was ready`)));
    lines.once('line', (line) => resolve(JSON.parse(line) as Ready));
  });
  return { name, child, port: ready.port, pid: ready.pid, agent: new Agent({ keepAlive: true, maxSockets: CONCURRENCY }) };
}

async function stopPeer(peer: Peer): Promise<void> {
  peer.agent.destroy();
  if (peer.child.exitCode !== null) return;
  const exited = new Promise((resolve) => peer.child.once('exit', resolve));
  peer.child.kill('SIGTERM');
  const timer = setTimeout(() => peer.child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** /proc/<pid>/status fields in MiB (VmRSS: now, VmHWM: peak). */
function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, hwm: kib('VmHWM') / 1024 };
}

interface Scrape {
  readonly ms: number;
  readonly bytes: number;
  readonly body?: Buffer;
  readonly contentType: string;
}

/** One GET /metrics, reading the whole body; `accept` is the Accept header (none when undefined). */
function scrape(peer: Peer, gzip: boolean, keep = false, signal?: AbortSignal, accept?: string): Promise<Scrape> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(
      {
        host: '127.0.0.1',
        port: peer.port,
        path: '/metrics',
        agent: peer.agent,
        signal,
        headers: { ...(gzip && { 'Accept-Encoding': 'gzip' }), ...(accept !== undefined && { Accept: accept }) },
      },
      (res) => {
        let bytes = 0;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (keep) chunks.push(chunk);
        });
        res.once('error', reject);
        res.once('end', () => {
          if (res.statusCode !== 200) reject(new Error(`${peer.name}: HTTP ${res.statusCode}`));
          else {
            const body = keep ? Buffer.concat(chunks) : undefined;
            const encoded = res.headers['content-encoding'] === 'gzip';
            const contentType = res.headers['content-type'] ?? '';
            resolve({ ms: performance.now() - started, bytes, contentType, ...(body && { body: encoded ? gunzipSync(body) : body }) });
          }
        });
      },
    );
    req.once('error', reject);
    req.end();
  });
}

/** The body must hold exactly N series of each family (guards against caps such as the SDK's 2000). */
function checkBody(peer: Peer, body: Buffer, series: number): void {
  let gauges = 0;
  let counters = 0;
  for (const line of body.toString('utf8').split('\n')) {
    if (line.startsWith(`${GAUGE}{`)) gauges++;
    else if (line.startsWith(`${COUNTER}_total{`)) counters++;
  }
  if (gauges !== series || counters !== series) {
    throw new Error(`${peer.name}: expected ${series} series of each family, got ${gauges} gauges and ${counters} counters`);
  }
}

/** CONCURRENCY scrapers issue scrapes for windowS seconds; the ones in flight then finish. Returns scrapes/s. */
async function concurrent(peer: Peer, gzip: boolean, p: Plan): Promise<{ rate: number; errors: number }> {
  const started = performance.now();
  const stopIssuing = started + p.windowS * 1000;
  const abort = AbortSignal.timeout((p.windowS + p.drainS) * 1000);
  let done = 0;
  let errors = 0;
  let last = started;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < stopIssuing && !abort.aborted) {
        try {
          await scrape(peer, gzip, false, abort);
          done++;
          last = performance.now();
        } catch {
          if (!abort.aborted) errors++;
        }
      }
    }),
  );
  return { rate: done === 0 ? 0 : done / ((last - started) / 1000), errors };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

interface Row {
  peer: PeerName;
  series: number;
  p50: number;
  p95: number;
  samples: number;
  rate: number;
  rateGzip: number;
  bytes: number;
  bytesGzip: number;
  idleRss: number;
  /** VmHWM after the sequential scrapes, before the concurrent ones. */
  peakRssSequential: number;
  peakRss: number;
  errors: number;
}

async function measure(series: number, options: Options): Promise<Row[]> {
  const p = plan(series, options.quick);
  const peers: Peer[] = [];
  const idle = new Map<PeerName, number>();
  try {
    for (const name of options.peers) {
      const peer = await startPeer(name, series);
      peers.push(peer);
    }
    await sleep(1000);
    for (const peer of peers) idle.set(peer.name, memory(peer.pid).rss);

    const bytes = new Map<PeerName, [number, number]>();
    for (const peer of peers) {
      const plain = await scrape(peer, false, true);
      checkBody(peer, plain.body!, series);
      const zipped = await scrape(peer, true);
      bytes.set(peer.name, [plain.bytes, zipped.bytes]);
      for (let i = 0; i < p.warmup; i++) await scrape(peer, false);
    }

    // Sequential scrapes, interleaved: each round gives every peer a batch, starting with a different peer.
    const latencies = new Map<PeerName, number[]>(peers.map((peer) => [peer.name, []]));
    const perRound = Math.ceil(p.sequential / p.rounds);
    for (let r = 0; r < p.rounds; r++) {
      for (let k = 0; k < peers.length; k++) {
        const peer = peers[(r + k) % peers.length]!;
        const list = latencies.get(peer.name)!;
        for (let i = 0; i < perRound && list.length < p.sequential; i++) list.push((await scrape(peer, false)).ms);
      }
    }

    const peakSequential = new Map(peers.map((peer) => [peer.name, memory(peer.pid).hwm]));
    const rates = new Map<PeerName, { rate: number; rateGzip: number; errors: number }>();
    for (const peer of peers) rates.set(peer.name, { rate: 0, rateGzip: 0, errors: 0 });
    for (const gzip of [false, true]) {
      for (const peer of peers) {
        const { rate, errors } = await concurrent(peer, gzip, p);
        const r = rates.get(peer.name)!;
        if (gzip) r.rateGzip = rate;
        else r.rate = rate;
        r.errors += errors;
      }
    }

    return peers.map((peer) => {
      const sorted = [...latencies.get(peer.name)!].sort((a, b) => a - b);
      const [plain, zipped] = bytes.get(peer.name)!;
      const r = rates.get(peer.name)!;
      return {
        peer: peer.name,
        series,
        p50: percentile(sorted, 50),
        p95: percentile(sorted, 95),
        samples: sorted.length,
        rate: r.rate,
        rateGzip: r.rateGzip,
        bytes: plain,
        bytesGzip: zipped,
        idleRss: idle.get(peer.name)!,
        peakRssSequential: peakSequential.get(peer.name)!,
        peakRss: memory(peer.pid).hwm,
        errors: r.errors,
      };
    });
  } finally {
    await Promise.all(peers.map(stopPeer));
  }
}

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '–');
const ms = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const ratio = (n: number, base: number | undefined) => (base && Number.isFinite(n) && n > 0 ? `${(n / base).toFixed(2)}×` : '–');
const size = (n: number) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${(n / 1024).toFixed(0)} KiB`);
const seriesLabel = (n: number) => (n % 1000 === 0 ? `${n / 1000}k` : String(n));

function table(rows: Row[]): string {
  const out = [
    '| N | peer | p50 ms | p95 ms | p50 vs prom-client | p50 vs otel-stock | scrapes/s ×8 | vs prom-client | scrapes/s ×8 gzip | vs prom-client | body | gzip body | peak RSS MiB | vs prom-client | peak RSS sequential MiB | idle RSS MiB |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    const base = rows.find((r) => r.series === row.series && r.peer === BASELINE);
    const stock = rows.find((r) => r.series === row.series && r.peer === 'otel-stock');
    const gzipNote = row.bytesGzip >= row.bytes ? ' (not compressed)' : '';
    out.push(
      `| ${seriesLabel(row.series)} | ${row.peer} | ${ms(row.p50)} | ${ms(row.p95)} | ${ratio(row.p50, base?.p50)} | ${ratio(row.p50, stock?.p50)} | ${fmt(row.rate)} | ${ratio(row.rate, base?.rate)} | ${fmt(row.rateGzip)} | ${ratio(row.rateGzip, base?.rateGzip)} | ${size(row.bytes)} | ${size(row.bytesGzip)}${gzipNote} | ${fmt(row.peakRss, 0)} | ${ratio(row.peakRss, base?.peakRss)} | ${fmt(row.peakRssSequential, 0)} | ${fmt(row.idleRss, 0)} |`,
    );
  }
  return out.join('\n');
}

/** The formats of the format dimension: what Prometheus sends to ask for each, and how the answer's type starts. */
const FORMATS = [
  { name: 'text 0.0.4', accept: 'text/plain;version=0.0.4', answers: 'text/plain; version=0.0.4' },
  {
    name: 'OpenMetrics 1.0.0',
    accept: 'application/openmetrics-text;version=1.0.0',
    answers: 'application/openmetrics-text; version=1.0.0',
  },
  {
    name: 'protobuf',
    accept: 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited',
    answers: 'application/vnd.google.protobuf',
  },
] as const;

interface FormatRow {
  readonly format: string;
  readonly series: number;
  readonly gzip: boolean;
  readonly p50: number;
  /** The exporter's user+system CPU over the sequential scrapes, per scrape. */
  readonly cpuMs: number;
  readonly bytes: number;
}

/** User+system CPU time of a process so far, in ms (/proc/<pid>/stat utime and stime, in clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the line, so 12 and 13 after the command name (field 3 is index 0).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** custom-exporter at N series, scraped in each format it negotiates, plain and gzip, interleaved. */
async function measureFormats(series: number, options: Options, skipped: string[]): Promise<FormatRow[]> {
  const p = plan(series, options.quick);
  const peer = await startPeer('custom-exporter', series);
  try {
    await sleep(1000);
    const runs: { format: (typeof FORMATS)[number]; gzip: boolean; ms: number[]; cpu: number; bytes: number }[] = [];
    for (const format of FORMATS) {
      const first = await scrape(peer, false, true, undefined, format.accept);
      if (!first.contentType.startsWith(format.answers)) {
        skipped.push(
          `${format.name} at ${seriesLabel(series)}: skipped, this build answers "Accept: ${format.accept}" with "${first.contentType}"`,
        );
        continue;
      }
      if (format.answers.startsWith('text/') || format.answers.startsWith('application/openmetrics-text'))
        checkBody(peer, first.body!, series);
      for (const gzip of [false, true]) {
        const zipped = await scrape(peer, gzip, false, undefined, format.accept);
        for (let i = 0; i < p.warmup; i++) await scrape(peer, gzip, false, undefined, format.accept);
        runs.push({ format, gzip, ms: [], cpu: 0, bytes: zipped.bytes });
      }
    }
    // Rounds as in the peer comparison: each gives every format a batch, starting with a different one.
    const perRound = Math.ceil(p.sequential / p.rounds);
    for (let r = 0; r < p.rounds; r++) {
      for (let k = 0; k < runs.length; k++) {
        const run = runs[(r + k) % runs.length]!;
        const before = cpuMs(peer.pid);
        for (let i = 0; i < perRound && run.ms.length < p.sequential; i++)
          run.ms.push((await scrape(peer, run.gzip, false, undefined, run.format.accept)).ms);
        run.cpu += cpuMs(peer.pid) - before;
      }
    }
    return runs.map((run) => ({
      format: run.format.name,
      series,
      gzip: run.gzip,
      p50: percentile(
        [...run.ms].sort((a, b) => a - b),
        50,
      ),
      cpuMs: run.cpu / run.ms.length,
      bytes: run.bytes,
    }));
  } finally {
    await stopPeer(peer);
  }
}

function formatTable(rows: FormatRow[]): string {
  const out = [
    '| N | format | gzip | p50 ms | p50 vs text 0.0.4 | CPU ms / scrape | CPU vs text 0.0.4 | body |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    const base = rows.find((r) => r.series === row.series && r.gzip === row.gzip && r.format === FORMATS[0].name);
    out.push(
      `| ${seriesLabel(row.series)} | ${row.format} | ${row.gzip ? 'yes' : 'no'} | ${ms(row.p50)} | ${ratio(row.p50, base?.p50)} | ${ms(row.cpuMs)} | ${ratio(row.cpuMs, base?.cpuMs)} | ${size(row.bytes)} |`,
    );
  }
  return out.join('\n');
}

function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform} ${process.arch}`;
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--sql')) {
    const { sqlBench } = await import('./sql.ts');
    const duration = argv.find((arg) => arg.startsWith('--duration='))?.slice('--duration='.length);
    const durationMs = duration === undefined ? undefined : parseDuration(duration);
    if (duration !== undefined && !durationMs) throw new Error(`--duration=${duration}: not a duration such as 10m or 90s`);
    process.stdout.write(await sqlBench({ quick: argv.includes('--quick'), durationMs }));
    return;
  }
  const options = parseArgs(argv);
  const began = performance.now();
  const header = [`machine: ${machine()}`, `load average before: ${load()}`, `mode: ${options.quick ? 'quick' : 'full'}`];
  process.stderr.write(`${header.join('\n')}\n`);
  if (options.formats) return formatsMain(options, header, began);
  if (options.probe) return probeMain(options, header);
  const rows: Row[] = [];
  for (const series of options.sizes) {
    const t = performance.now();
    const measured = await measure(series, options);
    rows.push(...measured);
    process.stderr.write(`N=${series}: ${((performance.now() - t) / 1000).toFixed(0)} s\n`);
    for (const r of measured) if (r.errors > 0) process.stderr.write(`  ${r.peer}: ${r.errors} failed scrapes\n`);
  }
  const footer = [
    `load average after: ${load()}`,
    `total time: ${((performance.now() - began) / 1000).toFixed(0)} s`,
    'p50/p95: sequential scrapes with the full body read (no Accept-Encoding); scrapes/s: 8 concurrent scrapers;',
    'peak RSS: VmHWM over the whole run of that N (sequential: VmHWM before the concurrent runs); idle RSS: VmRSS 1 s',
    'after start, before the first scrape.',
  ];
  const report = [...header, '', table(rows), '', ...footer, ''].join('\n');
  process.stdout.write(report);
  if (options.out) writeFileSync(options.out, report);
}

async function probeMain(options: Options, header: string[]): Promise<void> {
  const { probeBench } = await import('./probe.ts');
  const report = [...header, '', await probeBench(options.quick), `load average after: ${load()}`, ''].join('\n');
  process.stdout.write(report);
  if (options.out) writeFileSync(options.out, report);
}

async function formatsMain(options: Options, header: string[], began: number): Promise<void> {
  const rows: FormatRow[] = [];
  const skipped: string[] = [];
  for (const series of options.sizes) {
    const t = performance.now();
    rows.push(...(await measureFormats(series, options, skipped)));
    process.stderr.write(`N=${series}: ${((performance.now() - t) / 1000).toFixed(0)} s\n`);
  }
  const footer = [
    ...skipped,
    `load average after: ${load()}`,
    `total time: ${((performance.now() - began) / 1000).toFixed(0)} s`,
    'custom-exporter only; p50: sequential scrapes with the full body read, asking for the format as Prometheus does;',
    "CPU: the exporter process's user+system time over those scrapes (10 ms ticks) per scrape; body: one answer's bytes.",
  ];
  const report = [...header, '', formatTable(rows), '', ...footer, ''].join('\n');
  process.stdout.write(report);
  if (options.out) writeFileSync(options.out, report);
}

await main();
