// The helpers that run the built CLI as a child (test/support/cli.ts): a test that waits on a dead exporter must fail
// at once with what it logged, and one that should have exited must not hang the suite.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli, spawnCli } from './support/cli.ts';

const MISSING = '--config.file=/nonexistent/sources.yaml';

test('runCli kills a CLI that outlives timeoutMs: no exit code, SIGKILL', { timeout: 60_000 }, async () => {
  // Without a bad config the CLI serves until stopped.
  const run = await runCli(['--web.listen-address=127.0.0.1:0'], { timeoutMs: 1000 });
  assert.equal(run.code, null, run.stderr);
  assert.equal(run.signal, 'SIGKILL');
});

test('waitForLog fails as soon as the CLI exits without the line, naming the exit and its stderr', { timeout: 60_000 }, async () => {
  const cli = spawnCli([MISSING]);
  // A deadline far past the test's own timeout: only the exit can end the wait in time.
  await assert.rejects(
    cli.waitForLog((l) => l.msg === 'never logged', 600_000),
    (err: Error) => {
      assert.match(err.message, /^exporter exited with 2; stderr:\n/);
      assert.match(err.message, /"msg":"invalid configuration"/);
      return true;
    },
  );
});

test('waitForLog finds a line logged just before the exit, after the exit', { timeout: 60_000 }, async () => {
  const cli = spawnCli([MISSING]);
  assert.equal(await cli.exited, 2, cli.stderr());
  const line = await cli.waitForLog((l) => l.msg === 'invalid configuration');
  assert.match(String(line.err), /nonexistent\/sources\.yaml/);
});

test('listening gives the http:// address of a plain exporter; kill() ends a running CLI', { timeout: 60_000 }, async () => {
  const cli = spawnCli();
  const url = await cli.listening();
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(cli.exitCode(), null);
  await cli.kill();
  assert.equal(await cli.exited, null, 'ended by the signal');
});
