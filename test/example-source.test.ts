import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli, serveCli } from './support/cli.ts';
import { scrape } from './support/scrape.ts';

const EXAMPLES = new URL('../examples/', import.meta.url).pathname;
const BUILT = join(EXAMPLES, 'dist/inbox/inbox-source.js');

test('the example TypeScript source, built, passes check-config and serves its metrics end to end', async () => {
  assert.ok(existsSync(BUILT), `${BUILT} is missing: run npm run build:examples (npm test does)`);
  const check = await runCli(['check-config', join(EXAMPLES, 'inbox/sources.yaml')]);
  assert.equal(check.code, 0, check.stderr);
  assert.match(check.stdout, /valid \(1 source: invoices\)/);

  const dir = await mkdtemp(join(tmpdir(), 'inbox-'));
  await writeFile(join(dir, 'a.pdf'), 'x'.repeat(100));
  await writeFile(join(dir, 'b.pdf'), 'x'.repeat(23));
  await writeFile(join(dir, 'notes.txt'), 'ignored');
  const config = join(dir, 'sources.yaml');
  await writeFile(
    config,
    `sources:\n  - kind: module\n    name: invoices\n    module: ${BUILT}\n    options: { directory: ${dir}, suffix: .pdf }\n`,
  );
  const cli = await serveCli(['--config.file', config]);
  try {
    const all = (await scrape(cli.url)).samples;
    assert.equal(all.get(`inbox_files{directory="${dir}"}`), 2);
    assert.equal(all.get(`inbox_bytes{directory="${dir}"}`), 123);
    assert.equal(all.get('custom_exporter_source_up{source="invoices"}'), 1);
  } finally {
    cli.signal('SIGTERM');
    await cli.exited;
  }
});
