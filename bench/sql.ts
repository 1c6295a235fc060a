// npm run bench -- --sql [--quick]: a PostgreSQL source with 10 queries of 1,000 rows each (10,000 series), scraped
// from the built CLI, against the same queries run with `pg` in a bare script (bench/peers/sql-bare.mjs): p50 and
// the client's CPU (exporter: per scrape; bare script: per run of the 10 queries). PostgreSQL's own CPU is not counted.
// npm run bench -- --sql --duration=10m: instead, scrapes back to back for that long and prints the exporter's RSS and
// V8 heap in use every 30 s, then their slopes (issue 15: "memory after 10 minutes of scrapes flat").
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { formatDuration } from '../src/duration.ts';
import { freePort } from '../test/support/ports.ts';
import { startPostgres } from '../test/support/postgres.ts';

const QUERIES = 10;
const ROWS = 1_000;

// How often the memory run samples the exporter's memory.
const SAMPLE_EVERY_MS = 30_000;

/** `durationMs`: the memory run (printed as it goes) instead of the p50 comparison. */
export async function sqlBench({ quick, durationMs }: { quick: boolean; durationMs?: number | undefined }): Promise<string> {
  const warmup = quick ? 5 : 20;
  const runs = quick ? 20 : 100;
  const db = await startPostgres();
  const dir = await mkdtemp(join(tmpdir(), 'sql-bench-'));
  let exporter: ChildProcess | undefined;
  try {
    await db.admin(`CREATE TABLE bench AS SELECT q, r, (q * ${ROWS} + r) * 1.5 AS v FROM generate_series(1, ${QUERIES}) q, generate_series(1, ${ROWS}) r;
      ALTER TABLE bench OWNER TO ${db.user}`);
    const queries = Array.from({ length: QUERIES }, (_, i) => ({
      name: `q${i + 1}`,
      sql: 'SELECT r, v FROM bench WHERE q = $1',
      params: [i + 1],
    }));
    const config = join(dir, 'config.yaml');
    await writeFile(
      config,
      `sources:
  - kind: sql
    name: db
    driver: postgres
    host: 127.0.0.1
    port: ${db.port}
    database: ${db.database}
    user: ${db.user}
    password: { value: ${db.password} }
    queries:
${queries.map((q) => `      - { name: ${q.name}, sql: "${q.sql}", params: [${q.params[0]}], metrics: [{ name: bench_${q.name}, value: v, labels: { row: r } }] }`).join('\n')}
`,
    );
    const port = await freePort();
    exporter = spawn(
      process.execPath,
      [
        '--max-semi-space-size=8',
        new URL('../dist/main.js', import.meta.url).pathname,
        '--config.file',
        config,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, MALLOC_ARENA_MAX: '2' } },
    );
    let log = '';
    exporter.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-2000)));
    const url = `http://127.0.0.1:${port}/metrics`;
    for (let started = performance.now(); ; ) {
      const ok = await fetch(url.replace('/metrics', '/healthz')).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (performance.now() - started > 30_000) throw new Error(`the exporter did not start: ${log}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const scrape = async () => {
      const body = await (await fetch(url)).text();
      if (!body.includes(`bench_q${QUERIES}{row="${ROWS}"}`)) throw new Error(`a scrape lacks the sql series: ${body.slice(0, 300)}`);
    };
    for (let i = 0; i < warmup; i++) await scrape();
    if (durationMs !== undefined) return await memoryOverTime(exporter.pid!, url, durationMs);
    const ms: number[] = [];
    const cpuBefore = await cpuMs(exporter.pid!);
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      await scrape();
      ms.push(performance.now() - started);
    }
    const exporterCpu = ((await cpuMs(exporter.pid!)) - cpuBefore) / runs;
    const connection = { host: '127.0.0.1', port: db.port, database: db.database, user: db.user, password: db.password };
    const { stdout } = await promisify(execFile)(process.execPath, [
      new URL('./peers/sql-bare.mjs', import.meta.url).pathname,
      JSON.stringify({ connection, queries, warmup, runs }),
    ]);
    const bare = JSON.parse(stdout) as { p50: number; cpuMs: number };
    const p50 = median(ms);
    return [
      `sql: ${QUERIES} queries × ${ROWS} rows (${QUERIES * ROWS} series), ${runs} sequential runs after ${warmup} warm-up`,
      '',
      '| client | p50 ms | p50 vs bare | CPU ms / run | CPU vs bare |',
      '|---|---|---|---|---|',
      `| custom-exporter (scrape of /metrics) | ${p50.toFixed(1)} | ${(p50 / bare.p50).toFixed(2)}× | ${exporterCpu.toFixed(1)} | ${(exporterCpu / bare.cpuMs).toFixed(2)}× |`,
      `| bare pg script (the 10 queries) | ${bare.p50.toFixed(1)} | 1.00× | ${bare.cpuMs.toFixed(1)} | 1.00× |`,
      '',
      'CPU: the client process only (exporter: /proc utime+stime in 10 ms ticks; bare: process.cpuUsage), not PostgreSQL.',
      '',
    ].join('\n');
  } finally {
    if (exporter && exporter.exitCode === null) {
      const exited = new Promise((resolve) => exporter!.once('exit', resolve));
      exporter.kill('SIGTERM');
      await exited;
    }
    await db.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

interface MemorySample {
  readonly minutes: number;
  readonly rssMb: number;
  readonly heapUsedMb: number;
}

/**
 * Scrapes `url` back to back for `durationMs`, sampling the exporter's RSS (/proc VmRSS) and V8 heap in use (its own
 * nodejs_heap_size_used_bytes, read from each scrape) at the start and every 30 s; each sample is printed when taken.
 */
async function memoryOverTime(pid: number, url: string, durationMs: number): Promise<string> {
  const samples: MemorySample[] = [];
  const started = performance.now();
  let scrapes = 0;
  let nextSample = started;
  // Heap in use swings with the GC cycle: the lowest value seen since the previous sample is the live heap's best
  // estimate, and what grows when something leaks.
  let heapFloor = Number.POSITIVE_INFINITY;
  const ms: number[] = [];
  process.stdout.write(`sql memory: ${QUERIES} queries × ${ROWS} rows, scraped back to back for ${formatDuration(durationMs)}\n\n`);
  process.stdout.write('| minutes | scrapes | RSS MiB | V8 heap used MiB (lowest since the last row) |\n|---|---|---|---|\n');
  for (;;) {
    const begun = performance.now();
    const body = await (await fetch(url)).text();
    ms.push(performance.now() - begun);
    scrapes++;
    if (!body.includes(`bench_q${QUERIES}{row="${ROWS}"}`)) throw new Error(`a scrape lacks the sql series: ${body.slice(0, 300)}`);
    const heap = /^nodejs_heap_size_used_bytes (\S+)$/m.exec(body);
    if (heap === null) throw new Error('the scrape has no nodejs_heap_size_used_bytes (exporter metrics disabled?)');
    heapFloor = Math.min(heapFloor, Number(heap[1]));
    const now = performance.now();
    if (now < nextSample && now - started < durationMs) continue;
    const sample = { minutes: (now - started) / 60_000, rssMb: (await rssKb(pid)) / 1024, heapUsedMb: heapFloor / 2 ** 20 };
    heapFloor = Number.POSITIVE_INFINITY;
    samples.push(sample);
    process.stdout.write(`| ${sample.minutes.toFixed(1)} | ${scrapes} | ${sample.rssMb.toFixed(1)} | ${sample.heapUsedMb.toFixed(1)} |\n`);
    if (now - started >= durationMs) break;
    nextSample += SAMPLE_EVERY_MS;
  }
  // Over the first 30 s RSS steps up once (the heap's young generation, the pool, the answer buffers reach their working
  // size): a leak is the slope after it.
  const steady = samples.length > 2 ? samples.slice(1) : samples;
  const slope = (value: (s: MemorySample) => number) => leastSquaresSlope(steady.map((s) => [s.minutes, value(s)]));
  return [
    '',
    `scrapes: ${scrapes}, p50 ${median(ms).toFixed(1)} ms`,
    `slope from ${steady[0]!.minutes.toFixed(1)} min on (least squares): RSS ${slope((s) => s.rssMb).toFixed(2)} MiB/min, V8 heap used ${slope((s) => s.heapUsedMb).toFixed(2)} MiB/min`,
    '',
  ].join('\n');
}

async function rssKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (match === null) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]);
}

function leastSquaresSlope(points: readonly (readonly [number, number])[]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / n;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / n;
  const covariance = points.reduce((sum, [x, y]) => sum + (x - meanX) * (y - meanY), 0);
  const variance = points.reduce((sum, [x]) => sum + (x - meanX) ** 2, 0);
  return covariance / variance;
}

async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
