// Issue 13: a probe's objects (its RunningSource, SourceCollector, ObservationRound) must not outlive it. Checked in
// the real built exporter by heap snapshots (--heapsnapshot-signal), with the scrapers' keep-alive connections still
// open: an async resource created during a collection keeps that collection's async context (AsyncLocalStorage)
// for as long as it lives.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { Agent, createServer, request, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type ServingCli, serveCli } from './support/cli.ts';
import { eventually } from './support/eventually.ts';
import { objectsByConstructor } from './support/heap-snapshot.ts';

const PROBES = 300;
const CONNECTIONS = 4;
const PER_PROBE = ['RunningSource', 'SourceCollector', 'ObservationRound'];

let dir: string;
let exporter: ServingCli;
/** Before any probe: the demo source's and /metrics' own objects. */
let baseline: Record<string, number>;
let baselineWeakRefs: number;
let targetHost: string;
const target = createServer((_req, res) => (held ? held.push(res) : answer(res)));
let held: ServerResponse[] | undefined;
let received = 0;
target.on('request', () => received++);
const answer = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"up": 1}');
const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });

before(async () => {
  target.listen(0, '127.0.0.1');
  await once(target, 'listening');
  targetHost = `127.0.0.1:${(target.address() as { port: number }).port}`;
  dir = await mkdtemp(join(tmpdir(), 'probe-memory-'));
  const config = join(dir, 'probe.yaml');
  await writeFile(
    config,
    `sources: [{ kind: demo }]\nmodules:\n  - { name: web, kind: http, url: 'http://t.invalid/', metrics: [{ name: app_up, path: $.up }], allow: { cidrs: [127.0.0.1/32] } }\n`,
  );
  exporter = await serveCli([`--config.file=${config}`], {
    cwd: dir,
    env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --heapsnapshot-signal=SIGUSR2` },
  });
  const counts = await liveObjects();
  baseline = perProbe(counts);
  baselineWeakRefs = counts.get('WeakRef') ?? 0;
});

after(async () => {
  agent.destroy();
  await exporter?.kill();
  target.close();
  // Each snapshot is some 20 MB.
  await rm(dir, { recursive: true, force: true });
});

function probe(): Promise<string> {
  const url = new URL(`${exporter.url}/probe?module=web&target=${targetHost}`);
  return new Promise((resolve, reject) => {
    request(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    })
      .on('error', reject)
      .end();
  });
}

/** The exporter's live objects by constructor, from a heap snapshot it writes into `dir`. */
async function liveObjects(): Promise<Map<string, number>> {
  const before = new Set(await readdir(dir));
  exporter.signal('SIGUSR2');
  // Written in one go by the exporter's main thread: complete once it parses.
  const counts = await eventually(
    async () => {
      const file = (await readdir(dir)).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
      assert.ok(file, 'no heap snapshot yet');
      return objectsByConstructor(join(dir, file));
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  return counts;
}

const perProbe = (counts: Map<string, number>) => Object.fromEntries(PER_PROBE.map((name) => [name, counts.get(name) ?? 0]));

test('a probe in flight shows in the heap snapshot (the count below can see them)', async () => {
  held = [];
  const answered = probe();
  await eventually(() => assert.equal(held?.length, 1));
  const counts = perProbe(await liveObjects());
  for (const name of PER_PROBE) assert.ok(counts[name]! > baseline[name]!, `${name}: ${JSON.stringify({ counts, baseline })}`);
  for (const res of held) answer(res);
  held = undefined;
  assert.match(await answered, /^probe_success 1$/m);
});

test(`after ${PROBES} probes over ${CONNECTIONS} keep-alive connections, no probe's objects are left`, async (t) => {
  const start = received;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      for (let i = 0; i < PROBES / CONNECTIONS; i++) assert.match(await probe(), /^probe_success 1$/m);
    }),
  );
  assert.equal(received - start, PROBES);
  // The connections stay open: what they hold is what a scraper's kept connection would hold.
  const counts = await liveObjects();
  assert.deepEqual(perProbe(counts), baseline);
  // AbortSignal.any() left weak references and finalizers for each collection until V8's finalization task ran
  // (thousands pending under probe load): a collection's signal needs none.
  const weakRefs = (counts.get('WeakRef') ?? 0) - baselineWeakRefs;
  t.diagnostic(`WeakRefs: ${weakRefs} more than before the probes`);
  assert.ok(weakRefs < PROBES / 2, `${weakRefs} WeakRefs more than before the probes`);
});
