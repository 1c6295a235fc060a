import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ServingCli, serveCli } from './support/cli.ts';
import { eventually } from './support/eventually.ts';
import { status } from './support/http-get.ts';

// exporter-toolkit's rate_limit (a token bucket: `burst` requests, one more every `interval`, else 429) was refused
// as an unknown key although the README promised existing files work unchanged (issue 11).

/** The CLI with a web config file holding `yaml`. */
function serveWithWebConfig(yaml: string): Promise<ServingCli> {
  const config = join(mkdtempSync(join(tmpdir(), 'rate-limit-')), 'web.yml');
  writeFileSync(config, yaml);
  return serveCli([`--web.config.file=${config}`]);
}

describe('rate_limit from the web config', () => {
  let cli: ServingCli;
  before(async () => {
    cli = await serveWithWebConfig('rate_limit:\n  interval: 1m\n  burst: 3\n');
  });
  after(() => cli?.kill());

  test('a burst of 3 is served, the 4th request gets 429 with Retry-After; /healthz stays exempt for probes', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push(await status(`${cli.url}/metrics`));
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    const refused = await fetch(`${cli.url}/`);
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '60');
    for (let i = 0; i < 5; i++) assert.equal(await status(`${cli.url}/healthz`), 200);
  });
});

describe('rate_limit refills', () => {
  let cli: ServingCli;
  before(async () => {
    cli = await serveWithWebConfig('rate_limit:\n  interval: 300ms\n  burst: 1\n');
  });
  after(() => cli?.kill());

  test('one request more every interval', async () => {
    // The readiness probe used /healthz, which is exempt: the bucket is full.
    const start = performance.now();
    assert.equal(await status(`${cli.url}/metrics`), 200);
    assert.equal(await status(`${cli.url}/metrics`), 429);
    await eventually(async () => assert.equal(await status(`${cli.url}/metrics`), 200, 'no token came back'), {
      timeoutMs: 5000,
      intervalMs: 20,
    });
    // Not before the interval (the token was taken after `start`).
    assert.ok(performance.now() - start >= 300, `served again after ${Math.round(performance.now() - start)} ms`);
  });
});
