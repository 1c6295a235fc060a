// Soak: concurrent scrapers against the built exporter for a while. Fails when a scrape fails, or when memory
// that a leak would raise grows by 10 % or more from the first quarter after warm-up to the last: the JS heap's
// low point (what survives garbage collection) and RSS outside V8's heap (buffers, zlib, malloc). RSS itself is
// reported beside them, not judged: under load V8 may enlarge its young generation once more (~16 MiB, seen
// at any time in the first half minute), which raises RSS without anything being leaked.
//   npm run soak -- --duration=10m      (CI runs it with --duration=30s)
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseDuration } from '../../src/config/duration.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '1m' },
    scrapers: { type: 'string', default: '8' },
    config: { type: 'string' },
  },
});
const durationMs = parseDuration(values.duration);
if (!durationMs) throw new Error(`--duration: "${values.duration}" is not a duration such as 30s or 10m`);
const scrapers = Number(values.scrapers);
const warmupMs = Math.min(60_000, durationMs / 3);
const quarterMs = (durationMs - warmupMs) / 4;

const main = new URL('../../dist/main.js', import.meta.url).pathname;
const child = spawn(process.execPath, [main, '--web.listen-address=127.0.0.1:0', '--log.format=json', ...(values.config ? [`--config.file=${values.config}`] : [])], {
  stdio: ['ignore', 'ignore', 'pipe'],
});
let log = '';
child.stderr.on('data', (c: Buffer) => (log += c.toString()));
const MiB = 1024 * 1024;
const rss = () => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024;

let url = '';
for (let i = 0; i < 200 && !url; i++) {
  const listening = log.split('\n').find((l) => l.includes('"msg":"listening"'));
  if (listening) url = `http://${(JSON.parse(listening) as { address: string }).address}/metrics`;
  else await new Promise((r) => setTimeout(r, 50));
}
if (!url) throw new Error(`the exporter did not start: ${log}`);

const started = Date.now();
const rssAtStart = rss();
let scrapes = 0;
const failures: string[] = [];
type Sample = { at: number; rss: number; heapUsed: number; heapTotal: number };
const samples: Sample[] = [];

// The exporter's own nodejs_heap_size_used_bytes, read from the bodies the scrapers get anyway.
function recordSample(body: string): void {
  const at = Date.now() - started;
  if (samples.length > 0 && at - samples[samples.length - 1]!.at < 100) return;
  const heapUsed = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})? (\d+)/m.exec(body);
  const heapTotal = /^nodejs_heap_size_total_bytes(?:\{[^}]*\})? (\d+)/m.exec(body);
  if (heapUsed && heapTotal) samples.push({ at, rss: rss(), heapUsed: Number(heapUsed[1]) / MiB, heapTotal: Number(heapTotal[1]) / MiB });
}

async function scraper(): Promise<void> {
  while (Date.now() - started < durationMs!) {
    try {
      const res = await fetch(url, { headers: { 'Accept-Encoding': 'gzip' } });
      const body = await res.text();
      if (res.status !== 200 || !body.includes('random_number')) failures.push(`status ${res.status}`);
      else recordSample(body);
    } catch (err) {
      failures.push((err as Error).message);
    }
    scrapes++;
  }
}
await Promise.all(Array.from({ length: scrapers }, scraper));
const rssAtEnd = rss();
child.kill('SIGTERM');

const during = (from: number, to: number) => samples.filter((s) => s.at >= from && s.at < to);
const first = during(warmupMs, warmupMs + quarterMs);
const last = during(durationMs - quarterMs, durationMs);
const median = (xs: number[]) => xs.toSorted((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const growth = (from: number, to: number) => (to - from) / from;
// What survives garbage collection: the lowest heap-used reading of a quarter.
const heapLow = (ss: Sample[]) => Math.min(...ss.map((s) => s.heapUsed));
// Memory outside V8's heap reservation: buffers, zlib, malloc arenas, code.
const native = (ss: Sample[]) => median(ss.map((s) => s.rss - s.heapTotal));
const rssMedian = (ss: Sample[]) => median(ss.map((s) => s.rss));
const heapTotalMedian = (ss: Sample[]) => median(ss.map((s) => s.heapTotal));

const seconds = (Date.now() - started) / 1000;
const f = (n: number) => n.toFixed(1);
const pct = (n: number) => `${n >= 0 ? '+' : ''}${(n * 100).toFixed(1)} %`;
const row = (name: string, a: number, b: number) => `  ${name.padEnd(31)} ${f(a).padStart(7)} MiB ${f(b).padStart(7)} MiB  ${pct(growth(a, b))}`;
const measured = first.length > 0 && last.length > 0;
console.log(`soak: ${seconds.toFixed(0)} s, ${scrapers} scrapers, ${scrapes} scrapes (${(scrapes / seconds).toFixed(0)}/s), ${failures.length} failed`);
console.log(`RSS: start ${f(rssAtStart)} MiB, end ${f(rssAtEnd)} MiB, peak ${f(Math.max(...samples.map((s) => s.rss)))} MiB`);
if (measured) {
  console.log(`after ${(warmupMs / 1000).toFixed(0)} s warm-up, first quarter → last quarter (${first.length} and ${last.length} samples):`);
  console.log(row('RSS (median)', rssMedian(first), rssMedian(last)));
  console.log(row('V8 heap reserved (median)', heapTotalMedian(first), heapTotalMedian(last)));
  console.log(row('JS heap used (low point) *', heapLow(first), heapLow(last)));
  console.log(row('RSS outside V8 heap (median) *', native(first), native(last)));
}
if (failures.length > 0) console.log(`failures: ${[...new Set(failures)].slice(0, 5).join('; ')}`);
const ok = failures.length === 0 && measured && growth(heapLow(first), heapLow(last)) < 0.1 && growth(native(first), native(last)) < 0.1;
console.log(ok ? 'soak: ok' : 'soak: FAILED (a scrape failed, or a figure marked * grew by 10 % or more)');
process.exitCode = ok ? 0 : 1;
