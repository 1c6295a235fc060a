import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from './support/cli.ts';

test('a port already taken: the CLI logs why and exits 1, with nothing it started keeping it alive', async () => {
  const taken = createServer().listen(0, '127.0.0.1');
  await once(taken, 'listening');
  const { port } = taken.address() as { port: number };
  try {
    // An interval-mode source and an OTLP push reader are running by the time the port is found taken.
    const config = join(tmpdir(), `listen-failure-${process.pid}.yaml`);
    await writeFile(config, 'sources: [{ kind: demo, mode: interval, interval: 1s }]\n');
    const run = await runCli([`--web.listen-address=127.0.0.1:${port}`, '--log.format=json', `--config.file=${config}`], {
      env: {
        OTEL_METRICS_EXPORTER: 'prometheus,otlp',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
        OTEL_METRIC_EXPORT_INTERVAL: '60000',
      },
      timeoutMs: 10_000,
    });
    assert.equal(run.signal, null, `still running after 10 s: ${run.stderr}`);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /"msg":"failed to start"/);
    assert.match(run.stderr, /EADDRINUSE/);
  } finally {
    taken.close();
  }
});
