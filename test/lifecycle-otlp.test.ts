import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli, spawnCli } from './support/cli.ts';

// Issue 11: shutdown while the OTLP collector hangs still exits 0 (README), bounded by the export timeout; and the
// common OTEL_METRIC_EXPORT_INTERVAL=5000 alone starts (the 30 s default timeout follows a shorter interval).

/** An OTLP/HTTP "collector" that accepts every request and never answers. */
async function hangingCollector() {
  const requests: IncomingMessage[] = [];
  const server = createServer((req) => {
    requests.push(req);
    req.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

test('SIGTERM while the collector hangs: the final push gives up after the export timeout and the exit is 0', {
  timeout: 60_000,
}, async () => {
  const collector = await hangingCollector();
  try {
    const cli = spawnCli([], {
      env: {
        OTEL_METRICS_EXPORTER: 'prometheus,otlp',
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
        OTEL_METRIC_EXPORT_INTERVAL: '60000',
        OTEL_METRIC_EXPORT_TIMEOUT: '2000',
      },
    });
    await cli.listening();
    const stopping = performance.now();
    cli.signal('SIGTERM');
    assert.equal(await cli.exited, 0, cli.stderr());
    // The final push reached the collector, which never answered: the exit waited for the export timeout, no more.
    assert.equal(collector.requests.length, 1);
    const seconds = (performance.now() - stopping) / 1000;
    assert.ok(seconds >= 1.5 && seconds < 12, `stopped after ${seconds} s`);
    assert.ok(cli.logs().some((l) => l.msg === 'stopped'));
  } finally {
    collector.close();
  }
});

test('OTEL_METRIC_EXPORT_INTERVAL=5000 alone starts, pushing with a 5 s timeout', { timeout: 60_000 }, async () => {
  const env = {
    OTEL_METRICS_EXPORTER: 'prometheus,otlp',
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
    OTEL_METRIC_EXPORT_INTERVAL: '5000',
  };
  const file = join(await mkdtemp(join(tmpdir(), 'lifecycle-otlp-')), 'demo.yaml');
  await writeFile(file, 'sources:\n  - kind: demo\n');
  const check = await runCli(['check-config', file], { env });
  assert.equal(check.code, 0, check.stderr);
  const cli = spawnCli([`--config.file=${file}`], { env });
  try {
    const url = await cli.listening();
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    assert.ok(!cli.logs().some((l) => l.level === 'warn' && /OTEL_METRIC_EXPORT/.test(String(l.msg))));
  } finally {
    cli.signal('SIGTERM');
    await cli.exited;
  }
});

test('an export timeout set longer than the interval: the interval is used, with a warning', { timeout: 60_000 }, async () => {
  const cli = spawnCli([], {
    env: {
      OTEL_METRICS_EXPORTER: 'prometheus,otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
      OTEL_METRIC_EXPORT_INTERVAL: '5000',
      OTEL_METRIC_EXPORT_TIMEOUT: '20000',
    },
  });
  try {
    await cli.listening();
    const warning = await cli.waitForLog((l) => l.level === 'warn' && /OTEL_METRIC_EXPORT_TIMEOUT/.test(String(l.msg)));
    assert.equal(
      warning.msg,
      'OTEL_METRIC_EXPORT_TIMEOUT (20000 ms) is longer than OTEL_METRIC_EXPORT_INTERVAL (5000 ms): pushes time out after 5000 ms',
    );
  } finally {
    cli.signal('SIGTERM');
    await cli.exited;
  }
});
