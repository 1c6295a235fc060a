// The PostgreSQL client (`pg`) is loaded by the first sql source that uses it, never at startup: an exporter
// without sql sources keeps its idle memory (bench/). The real CLI runs with a module hook reporting what it loads.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { serveCli } from './support/cli.ts';
import { eventually } from './support/eventually.ts';
import { scrape } from './support/scrape.ts';

const HOOK = `import { registerHooks } from 'node:module';
registerHooks({
  load(url, context, nextLoad) {
    if (url.includes('/node_modules/pg/')) process.stderr.write('hook: pg loaded\\n');
    return nextLoad(url, context);
  },
});
`;

test('pg is loaded by the first sql source, not by an exporter without one', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sql-lazy-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const hook = join(dir, 'hook.mjs');
  await writeFile(hook, HOOK);
  const env = { NODE_OPTIONS: `--import=${hook}` };
  const withoutSql = join(dir, 'without.yaml');
  await writeFile(withoutSql, 'sources:\n  - { kind: demo, name: demo }\n');
  // The database need not be up: setup loads the driver, the scrape only fails with reason connection.
  const withSql = join(dir, 'with.yaml');
  await writeFile(
    withSql,
    `sources:
  - kind: sql
    name: db
    driver: postgres
    dsn: postgres://reader@127.0.0.1:9/app
    queries: [{ name: one, sql: SELECT 1 AS v, metrics: [{ name: one, value: v }] }]
`,
  );

  const plain = await serveCli(['--config.file', withoutSql], { env });
  t.after(() => plain.kill());
  await scrape(plain.url);
  // Positive control below: the same hook does see pg when an sql source is configured.
  const sql = await serveCli(['--config.file', withSql], { env });
  t.after(() => sql.kill());
  await eventually(async () =>
    assert.match((await scrape(sql.url)).body, /custom_exporter_source_errors_total\{source="db",reason="connection"\} [1-9]/),
  );
  assert.match(sql.stderr(), /^hook: pg loaded$/m);
  assert.doesNotMatch(plain.stderr(), /hook: pg loaded/);
});
