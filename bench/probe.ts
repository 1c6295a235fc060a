// npm run bench -- --probe [--quick] [--out=FILE]
// node bench/probe.ts --soak=SECONDS [--snapshots=DIR] (after npm run build)
//
// Issue 13: what /probe costs against the same fetch declared once as a plain http source. One built exporter
// (dist/main.js, the flags the image uses) has both; a local HTTP target answers a small JSON document. 8 concurrent
// scrapers hit GET /probe?module=web&target=… for a window, then GET /metrics?source=plain for the same window:
// answers/s, target fetches/s (a plain source shares one collection among concurrent scrapes; each probe fetches on
// its own), the exporter's RSS after each window, and the ratios probe/plain.
//
// --soak: is the RSS after a probe window a leak or a plateau? One exporter answers probes from 8 scrapers for
// SECONDS; every 10 s its RSS (/proc) and V8 heap used (nodejs_heap_size_used_bytes from its own /metrics) are
// sampled. With --snapshots=DIR it runs with --heapsnapshot-signal=SIGUSR2 and writes a heap snapshot to DIR after
// the first and the last sample, to compare retained objects by constructor.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

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
async function startExporter(
  config: string,
  extraNodeFlags: readonly string[] = [],
  cwd?: string,
): Promise<{ port: number; pid: number; stop: () => Promise<void> }> {
  const child = spawn(
    process.execPath,
    [...NODE_FLAGS, ...extraNodeFlags, MAIN, `--config.file=${config}`, '--web.listen-address=127.0.0.1:0', '--log.format=json'],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...RUNTIME_ENV }, cwd },
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

/** A local JSON target and a config with the same fetch as a plain source and as a module. */
async function benchSetup() {
  const counter = { fetches: 0 };
  const target = createServer((_req, res) => {
    counter.fetches++;
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
  return {
    counter,
    targetHost,
    config,
    close: () => {
      target.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function probeBench(quick: boolean): Promise<string> {
  const { counter, targetHost, config, close } = await benchSetup();
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
        const before = counter.fetches;
        const { rate, errors } = await load(exporter.port, path, expect, seconds);
        rows.push({
          name,
          answers: rate,
          fetches: (counter.fetches - before) / seconds,
          errors,
          idleMiB: idle,
          rssMiB: rssMiB(exporter.pid),
        });
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
    close();
  }
}

const SAMPLE_SECONDS = 10;

/** The exporter's own V8 heap (used and total) and external memory in MiB, from its /metrics. */
async function heapMiB(port: number): Promise<{ used: number; total: number; external: number }> {
  const agent = new Agent();
  try {
    const { body } = await get(agent, port, '/metrics');
    const mib = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(body)?.[1] ?? Number.NaN) / 2 ** 20;
    return {
      used: mib('nodejs_heap_size_used_bytes'),
      total: mib('nodejs_heap_size_total_bytes'),
      external: mib('nodejs_external_memory_bytes'),
    };
  } finally {
    agent.destroy();
  }
}

/** Writes a heap snapshot through --heapsnapshot-signal and waits until the file is complete. */
async function heapSnapshot(pid: number, dir: string): Promise<string> {
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const file = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    // The file is written in one go by the main thread; a complete snapshot is a JSON document.
    if (file && readFileSync(join(dir, file), 'utf8').trimEnd().endsWith('}')) return join(dir, file);
  }
}

/** Probes for `seconds` from 8 scrapers, sampling RSS and heap used every 10 s. */
async function probeSoak(seconds: number, snapshotDir: string | undefined): Promise<string> {
  const { counter, targetHost, config, close } = await benchSetup();
  const flags = snapshotDir === undefined ? [] : ['--heapsnapshot-signal=SIGUSR2'];
  const exporter = await startExporter(config, flags, snapshotDir);
  const lines = [
    `soak: ${seconds} s of /probe?module=web from ${CONCURRENCY} scrapers, one exporter, sampled every ${SAMPLE_SECONDS} s`,
    '',
    '| t (s) | target fetches | RSS (MiB) | heap used (MiB) | heap total (MiB) | external (MiB) |',
    '|---:|---:|---:|---:|---:|---:|',
  ];
  const sample = async (t: number) => {
    const heap = await heapMiB(exporter.port);
    const columns = [t, counter.fetches, rssMiB(exporter.pid), heap.used, heap.total, heap.external];
    lines.push(`| ${columns.map((c, i) => (i < 2 ? c : c.toFixed(1))).join(' | ')} |`);
    process.stderr.write(`${lines.at(-1)}\n`);
  };
  try {
    await sample(0);
    const path = `/probe?module=web&target=${targetHost}`;
    for (let t = SAMPLE_SECONDS; t <= seconds; t += SAMPLE_SECONDS) {
      await load(exporter.port, path, /^probe_success 1$/m, SAMPLE_SECONDS);
      await sample(t);
      if (snapshotDir !== undefined && (t === SAMPLE_SECONDS || t + SAMPLE_SECONDS > seconds))
        lines.push(`snapshot after ${t} s: ${await heapSnapshot(exporter.pid, snapshotDir)}`);
    }
    return `${lines.join('\n')}\n`;
  } finally {
    await exporter.stop();
    close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const option = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const seconds = Number(option('soak') ?? 300);
  process.stdout.write(await probeSoak(seconds, option('snapshots')));
}
