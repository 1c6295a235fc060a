import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { runCli, spawnCli } from './support/cli.ts';
import { bothReject, escapeRegExp } from './support/config-error.ts';

// Issue 11: every duration has an explicit maximum checked at load, and check-config agrees with start.

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'config-limits-'));
});

async function write(name: string, content: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, content);
  return file;
}

describe('durations have explicit maxima', () => {
  test('interval: 4w is refused (Node would clamp the timer to 1 ms and run the command in a loop)', async () => {
    const file = await write('interval.yaml', 'sources:\n  - kind: demo\n    mode: interval\n    interval: 4w\n');
    await bothReject(file, new RegExp(`^${escapeRegExp(file)}:4:5: sources\\[0\\]\\.interval: 4w is longer than the maximum of 1d$`, 'm'));
  });

  test('timeout: 30d and a 1h scrapeTimeout are refused', async () => {
    const file = await write('timeout.yaml', 'global:\n  scrapeTimeout: 1h\nsources:\n  - kind: demo\n    timeout: 30d\n');
    const { check } = await bothReject(
      file,
      new RegExp(`^${escapeRegExp(file)}:2:3: global\\.scrapeTimeout: 1h is longer than the maximum of 10m$`, 'm'),
    );
    assert.match(
      check.stderr,
      new RegExp(`^${escapeRegExp(file)}:5:5: sources\\[0\\]\\.timeout: 30d is longer than the maximum of 10m$`, 'm'),
    );
  });

  test('OTEL_METRIC_EXPORT_INTERVAL and _TIMEOUT have the same maxima', async () => {
    const file = await write('plain.yaml', 'sources:\n  - kind: demo\n');
    await bothReject(file, /OTEL_METRIC_EXPORT_INTERVAL: "2592000000" is more than the maximum of 86400000 ms \(1d\)/, {
      OTEL_METRIC_EXPORT_INTERVAL: '2592000000',
    });
    await bothReject(file, /OTEL_METRIC_EXPORT_TIMEOUT: "3600000" is more than the maximum of 600000 ms \(10m\)/, {
      OTEL_METRIC_EXPORT_INTERVAL: '86400000',
      OTEL_METRIC_EXPORT_TIMEOUT: '3600000',
    });
  });

  test('X-Prometheus-Scrape-Timeout-Seconds: 1e10 is clamped: 200, and nothing but log lines on stderr', { timeout: 60_000 }, async () => {
    const cli = spawnCli([]);
    try {
      const url = await cli.listening();
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${url}/metrics`, { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': '1e10' } });
        assert.equal(res.status, 200);
        assert.match(await res.text(), /^custom_exporter_source_up\{source="demo"\} 1$/m);
      }
      // Every stderr line is a JSON log line: no TimeoutOverflowWarning from Node.
      const stray = cli
        .stderr()
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('{'));
      assert.deepEqual(stray, []);
      assert.ok(cli.logs().some((l) => l.msg === 'listening'));
    } finally {
      cli.signal('SIGTERM');
      assert.equal(await cli.exited, 0);
    }
  });
});

describe('check-config runs the same checks as start', () => {
  test('a missing bearer env variable: both exit 2 naming file, line and field', async () => {
    const file = await write(
      'bearer.yaml',
      'sources:\n  - kind: http\n    url: http://127.0.0.1:1/\n    auth:\n      bearer: { env: CONFIG_LIMITS_UNSET_TOKEN }\n    metrics: [{ name: a, path: $.a }]\n',
    );
    await bothReject(
      file,
      new RegExp(
        `^${escapeRegExp(file)}:5:17: sources\\[0\\]\\.auth\\.bearer\\.env: environment variable CONFIG_LIMITS_UNSET_TOKEN is not set$`,
        'm',
      ),
    );
    // Positive control: with the variable set, both accept the file.
    const check = await runCli(['check-config', file], { env: { CONFIG_LIMITS_UNSET_TOKEN: 't' } });
    assert.equal(check.code, 0, check.stderr);
  });

  test('a missing tls.caFile or secret file: both exit 2 naming file, line and field', async () => {
    const file = await write(
      'ca.yaml',
      'sources:\n  - kind: http\n    url: https://127.0.0.1:1/\n    tls: { caFile: missing-ca.pem }\n    auth: { bearer: { file: missing-token } }\n    metrics: [{ name: a, path: $.a }]\n',
    );
    const { check } = await bothReject(
      file,
      new RegExp(
        `^${escapeRegExp(file)}:4:12: sources\\[0\\]\\.tls\\.caFile: cannot read ${escapeRegExp(join(dir, 'missing-ca.pem'))}: ENOENT$`,
        'm',
      ),
    );
    assert.match(
      check.stderr,
      new RegExp(`^${escapeRegExp(file)}:5:23: sources\\[0\\]\\.auth\\.bearer\\.file: cannot read .*missing-token: ENOENT$`, 'm'),
    );
  });

  test('telemetry.exporters none with others: both exit 2 naming file, line and field', async () => {
    const file = await write('none.yaml', 'telemetry:\n  exporters: [none, otlp]\nsources:\n  - kind: demo\n');
    await bothReject(
      file,
      new RegExp(`^${escapeRegExp(file)}:2:3: telemetry\\.exporters: "none" cannot be combined with other exporters$`, 'm'),
    );
  });

  test('an invalid OTEL_* variable: both exit 2 naming it', async () => {
    const file = await write('env.yaml', 'sources:\n  - kind: demo\n');
    await bothReject(file, /OTEL_METRICS_EXPORTER: "carrier-pigeon" is not one of/, {
      OTEL_METRICS_EXPORTER: 'prometheus,carrier-pigeon',
    });
  });

  test('telemetry.otlp.exportTimeout longer than interval: check-config warns and accepts, as start does', async () => {
    const file = await write('export-timeout.yaml', 'telemetry:\n  otlp: { interval: 5s, exportTimeout: 10s }\nsources:\n  - kind: demo\n');
    const check = await runCli(['check-config', file]);
    assert.equal(check.code, 0, check.stderr);
    assert.equal(
      check.stderr,
      'warning: telemetry.otlp.exportTimeout (10000 ms) is longer than telemetry.otlp.interval (5000 ms): pushes time out after 5000 ms\n',
    );
  });
});
