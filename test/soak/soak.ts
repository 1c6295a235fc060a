// Soak: 8 concurrent scrapers against the built exporter for a while; reports RSS and failed scrapes, and
// fails when RSS grows by 10 % or more after warm-up or when any scrape fails.
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
const warmupMs = Math.min(10_000, durationMs / 5);

const main = new URL('../../dist/main.js', import.meta.url).pathname;
const child = spawn(process.execPath, [main, '--web.listen-address=127.0.0.1:0', '--log.format=json', ...(values.config ? [`--config.file=${values.config}`] : [])], {
  stdio: ['ignore', 'ignore', 'pipe'],
});
let log = '';
child.stderr.on('data', (c: Buffer) => (log += c.toString()));
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
let rssAfterWarmup = 0;
let scrapes = 0;
const failures: string[] = [];
const samples: number[] = [];

const sampler = setInterval(() => {
  samples.push(rss());
  if (!rssAfterWarmup && Date.now() - started >= warmupMs) rssAfterWarmup = rss();
}, 1000);

async function scraper(): Promise<void> {
  while (Date.now() - started < durationMs!) {
    try {
      const res = await fetch(url, { headers: { 'Accept-Encoding': 'gzip' } });
      const body = await res.text();
      if (res.status !== 200 || !body.includes('random_number')) failures.push(`status ${res.status}`);
    } catch (err) {
      failures.push((err as Error).message);
    }
    scrapes++;
  }
}
await Promise.all(Array.from({ length: scrapers }, scraper));
clearInterval(sampler);
const rssAtEnd = rss();
child.kill('SIGTERM');

const growth = (rssAtEnd - rssAfterWarmup) / rssAfterWarmup;
const seconds = (Date.now() - started) / 1000;
console.log(`soak: ${seconds.toFixed(0)} s, ${scrapers} scrapers, ${scrapes} scrapes (${(scrapes / seconds).toFixed(0)}/s), ${failures.length} failed`);
console.log(`RSS: start ${rssAtStart.toFixed(1)} MiB, after ${(warmupMs / 1000).toFixed(0)} s warm-up ${rssAfterWarmup.toFixed(1)} MiB, end ${rssAtEnd.toFixed(1)} MiB, peak ${Math.max(...samples).toFixed(1)} MiB, growth after warm-up ${(growth * 100).toFixed(1)} %`);
if (failures.length > 0) console.log(`failures: ${[...new Set(failures)].slice(0, 5).join('; ')}`);
const ok = failures.length === 0 && growth < 0.1;
console.log(ok ? 'soak: ok' : 'soak: FAILED (a scrape failed or RSS grew by 10 % or more)');
process.exitCode = ok ? 0 : 1;
