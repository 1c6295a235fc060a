import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MAIN } from './support/exporter.ts';

test('a port already taken: the CLI logs why and exits 1, with nothing it started keeping it alive', async () => {
  const taken = createServer().listen(0, '127.0.0.1');
  await once(taken, 'listening');
  const { port } = taken.address() as { port: number };
  try {
    // An interval-mode source and an OTLP push reader are running by the time the port is found taken.
    const config = join(tmpdir(), `listen-failure-${process.pid}.yaml`);
    await writeFile(config, 'sources: [{ kind: demo, mode: interval, interval: 1s }]\n');
    const child = spawn(
      process.execPath,
      [MAIN, `--web.listen-address=127.0.0.1:${port}`, '--log.format=json', `--config.file=${config}`],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: {
          ...process.env,
          OTEL_METRICS_EXPORTER: 'prometheus,otlp',
          OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
          OTEL_METRIC_EXPORT_INTERVAL: '60000',
        },
      },
    );
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const [code, signal] = await once(child, 'exit');
    clearTimeout(timer);
    assert.equal(signal, null, `still running after 10 s: ${stderr}`);
    assert.equal(code, 1, stderr);
    assert.match(stderr, /"msg":"failed to start"/);
    assert.match(stderr, /EADDRINUSE/);
  } finally {
    taken.close();
  }
});
