import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { type ServingCli, serveCli } from './support/cli.ts';
import { eventually } from './support/eventually.ts';
import { get } from './support/http-get.ts';

// Issue 11: ~20 clients sending wrong basic-auth passwords froze the exporter, /healthz included (bcrypt ran on the
// event loop, unbounded). Checked from outside: the built CLI as a child process, real HTTP clients.

const KUBELET_PROBE_TIMEOUT_MS = 1000;
const SCRAPE_TIMEOUT_MS = 10_000;
const RSS_LIMIT = 256 * 1024 * 1024;
const PASSWORD = 'the right password';

/** A GET with basic auth as prometheus:`password` (none when undefined). */
const login = (url: string, password?: string) =>
  get(
    url,
    password === undefined ? {} : { headers: { Authorization: `Basic ${Buffer.from(`prometheus:${password}`).toString('base64')}` } },
  );

/** `clients` loops, each sending one wrong password at a time until stopped (bounded by `maxMs` in any case). */
function flood(url: string, clients: number, maxMs: number) {
  const statuses = new Map<number, number>();
  const fastRefusals: number[] = [];
  const retryAfter = new Set<string | undefined>();
  let stopped = false;
  const until = Date.now() + maxMs;
  const loops = Array.from({ length: clients }, async (_, i) => {
    for (let n = 0; !stopped && Date.now() < until; n++) {
      const answer = await login(`${url}/metrics`, `wrong ${i} ${n}`).catch(() => undefined);
      if (!answer) continue;
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      if (answer.status === 503) {
        fastRefusals.push(answer.ms);
        retryAfter.add(answer.headers['retry-after']);
      }
    }
  });
  return {
    statuses,
    fastRefusals,
    retryAfter,
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

describe('a flood of wrong basic-auth passwords', () => {
  let cli: ServingCli;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'auth-flood-'));
    const config = join(dir, 'web.yml');
    writeFileSync(config, `basic_auth_users:\n  prometheus: "${bcrypt.hashSync(PASSWORD, 10)}"\n`);
    cli = await serveCli([`--web.config.file=${config}`]);
  });
  after(() => cli?.kill());

  test('20 concurrent wrong-password clients: /healthz answers within 1 s, the right password gets in, RSS stays bounded', async (t) => {
    const attack = flood(cli.url, 20, 60_000);
    try {
      // Positive control: the flood is being checked (401s come back) before /healthz is timed.
      await eventually(() => assert.ok((attack.statuses.get(401) ?? 0) >= 20, '20 refused logins'));
      for (let i = 0; i < 10; i++) {
        const health = await get(`${cli.url}/healthz`);
        assert.equal(health.status, 200);
        assert.ok(health.ms < KUBELET_PROBE_TIMEOUT_MS, `/healthz took ${Math.round(health.ms)} ms during the flood`);
        await new Promise((r) => setTimeout(r, 50));
      }
      // Never used before, so not cached: it waits its turn for a check, within a scrape timeout.
      const scrape = await login(`${cli.url}/metrics`, PASSWORD);
      t.diagnostic(`the right password got in after ${Math.round(scrape.ms)} ms; RSS ${Math.round(cli.rss() / 1048576)} MiB`);
      assert.equal(scrape.status, 200);
      assert.ok(scrape.ms < SCRAPE_TIMEOUT_MS, `the right password took ${Math.round(scrape.ms)} ms`);
      // Now verified, it is remembered and does not queue behind the flood again.
      const again = await login(`${cli.url}/metrics`, PASSWORD);
      assert.equal(again.status, 200);
      assert.ok(again.ms < KUBELET_PROBE_TIMEOUT_MS, `a remembered login took ${Math.round(again.ms)} ms`);
      assert.ok(cli.rss() < RSS_LIMIT, `RSS ${cli.rss()} bytes`);
    } finally {
      await attack.stop();
    }
    assert.deepEqual([...attack.statuses.keys()], [401], `every wrong password answered 401: ${JSON.stringify([...attack.statuses])}`);
  });

  test('past the bound of waiting checks, wrong passwords get 503 with Retry-After at once instead of queueing', async () => {
    const attack = flood(cli.url, 80, 60_000);
    try {
      await eventually(() => assert.ok(attack.fastRefusals.length >= 20, '20 refusals for lack of room'));
      const health = await get(`${cli.url}/healthz`);
      assert.equal(health.status, 200);
      assert.ok(health.ms < KUBELET_PROBE_TIMEOUT_MS, `/healthz took ${Math.round(health.ms)} ms during the flood`);
      const refusal = await login(`${cli.url}/metrics`, 'yet another wrong one');
      assert.ok([401, 503].includes(refusal.status), String(refusal.status));
      assert.ok(cli.rss() < RSS_LIMIT, `RSS ${cli.rss()} bytes`);
    } finally {
      await attack.stop();
    }
    const sorted = [...attack.fastRefusals].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    assert.deepEqual([...attack.retryAfter], ['1']);
    // Logged, but not once per refusal.
    const logged = cli.logs().filter((l) => String(l.msg).startsWith('login answered 503: too many password checks waiting'));
    assert.ok(logged.length >= 1 && logged.length <= 10, `${logged.length} lines for ${attack.fastRefusals.length} refusals`);
    assert.equal(logged[0]!.level, 'warn');
    assert.ok(median < KUBELET_PROBE_TIMEOUT_MS, `503s took ${Math.round(median)} ms (median)`);
    assert.equal((await login(`${cli.url}/metrics`, PASSWORD)).status, 200);
  });
});
