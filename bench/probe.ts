// npm run bench -- --probe [--quick] [--out=FILE]
//
// Issue 13: what /probe costs against the same fetch declared once as a plain http source. One built exporter
// (dist/main.js, the flags the image uses) has both; a local HTTP target answers a small JSON document. 8 concurrent
// scrapers hit GET /probe?module=web&target=… for a window, then GET /metrics?source=plain for the same window:
// answers/s, target fetches/s (a plain source shares one collection among concurrent scrapes; each probe fetches on
// its own), the exporter's RSS after each window, and the ratios probe/plain.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

const CONCURRENCY = 8;
const MAIN = new URL('../dist/main.js', import.meta.url).pathname;
// The flags the image, npm start and the bin run it with (test/runtime-flags.test.ts keeps them in step).
const NODE_FLAGS = ['--max-semi-space-size=8'];
const RUNTIME_ENV = { MALLOC_ARENA_MAX: '2' };

interface Row {
  readonly name: string;
  readonly answers: number;
  readonly fetches: number;
  readonly errors: number;
  readonly idleMiB: number;
  readonly rssMiB: number;
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN) / 1024;
}

function get(agent: Agent, port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

/** 8 scrapers asking for `path` for `seconds`; an answer counts when it is 200 and carries `expect`. */
async function load(port: number, path: string, expect: RegExp, seconds: number): Promise<{ rate: number; errors: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const until = performance.now() + seconds * 1000;
  let ok = 0;
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) {
        const answer = await get(agent, port, path).catch(() => ({ status: 0, body: '' }));
        if (answer.status === 200 && expect.test(answer.body)) ok++;
        else errors++;
      }
    }),
  );
  agent.destroy();
  return { rate: ok / ((performance.now() - started) / 1000), errors };
}

/** The built CLI with `config`, as the image runs it; resolves once it logs `listening`. */
async function startExporter(config: string): Promise<{ port: number; pid: number; stop: () => Promise<void> }> {
  const child = spawn(
    process.execPath,
    [...NODE_FLAGS, MAIN, `--config.file=${config}`, '--web.listen-address=127.0.0.1:0', '--log.format=json'],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...RUNTIME_ENV } },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const port = await new Promise<number>((resolve, reject) => {
    void exited.then((code) => reject(new Error(`exporter exited with ${code} before listening`)));
    createInterface({ input: child.stderr! }).on('line', (line) => {
      const record = JSON.parse(line) as { msg?: string; address?: string };
      if (record.msg === 'listening') resolve(Number(String(record.address).split(':').pop()));
    });
  });
  return {
    port,
    pid: child.pid!,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function probeBench(quick: boolean): Promise<string> {
  let fetches = 0;
  const target = createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"up": 1, "queue": {"depth": 42}}');
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  const targetHost = `127.0.0.1:${(target.address() as { port: number }).port}`;
  const dir = mkdtempSync(join(tmpdir(), 'probe-bench-'));
  const config = join(dir, 'probe-bench.yaml');
  const metrics = '[{ name: app_up, path: $.up }, { name: queue_depth, path: $.queue.depth }]';
  writeFileSync(
    config,
    `sources:
  - { name: plain, kind: http, url: 'http://${targetHost}/status', metrics: ${metrics} }
modules:
  - { name: web, kind: http, url: 'http://target.invalid/status', metrics: ${metrics}, allow: { cidrs: [127.0.0.1/32] } }
`,
  );
  try {
    const seconds = quick ? 3 : 10;
    const rows: Row[] = [];
    for (const [name, path, expect] of [
      ['/probe (module web)', `/probe?module=web&target=${targetHost}`, /^probe_success 1$/m],
      ['/metrics?source=plain', '/metrics?source=plain', /^queue_depth 42$/m],
    ] as const) {
      // A fresh exporter per row, so that one row's garbage does not count in the other's RSS.
      const exporter = await startExporter(config);
      try {
        const idle = rssMiB(exporter.pid);
        await load(exporter.port, path, expect, 1); // warm-up
        const before = fetches;
        const { rate, errors } = await load(exporter.port, path, expect, seconds);
        rows.push({ name, answers: rate, fetches: (fetches - before) / seconds, errors, idleMiB: idle, rssMiB: rssMiB(exporter.pid) });
      } finally {
        await exporter.stop();
      }
    }
    const [probe, plain] = rows as [Row, Row];
    const line = (r: Row) =>
      `| ${r.name} | ${r.answers.toFixed(0)} | ${r.fetches.toFixed(0)} | ${r.errors} | ${r.idleMiB.toFixed(1)} | ${r.rssMiB.toFixed(1)} |`;
    return [
      `window: ${seconds} s per row after a 1 s warm-up, ${CONCURRENCY} concurrent scrapers, a fresh exporter per row`,
      '',
      '| endpoint | answers/s | target fetches/s | failed answers | idle RSS (MiB) | RSS after (MiB) |',
      '|---|---:|---:|---:|---:|---:|',
      line(probe),
      line(plain),
      '',
      `ratios probe/plain: answers/s ${(probe.answers / plain.answers).toFixed(2)}, target fetches/s ${(probe.fetches / plain.fetches).toFixed(2)}, RSS after ${(probe.rssMiB / plain.rssMiB).toFixed(2)}`,
      '',
    ].join('\n');
  } finally {
    target.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
