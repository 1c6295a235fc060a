// `output: prometheus` of the command, file and http kinds, through the real built CLI and real scripts and servers.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli, serveCli } from './support/cli.ts';
import { eventually } from './support/eventually.ts';
import { OtlpReceiver } from './support/otlp/receiver.ts';
import { scrape } from './support/scrape.ts';
import { shellScript } from './support/shell-script.ts';
import { requireTool } from './support/tools.ts';

// What a script_exporter script prints: a histogram, a summary, a counter (with a timestamp) and a gauge.
const SCRIPT_OUTPUT = `# HELP backup_duration_seconds How long backups took.
# TYPE backup_duration_seconds histogram
backup_duration_seconds_bucket{db="main",le="10"} 2
backup_duration_seconds_bucket{db="main",le="60"} 5
backup_duration_seconds_bucket{db="main",le="+Inf"} 6
backup_duration_seconds_sum{db="main"} 250.5
backup_duration_seconds_count{db="main"} 6
# HELP restore_check_seconds Time to verify a restore.
# TYPE restore_check_seconds summary
restore_check_seconds{quantile="0.5"} 4
restore_check_seconds{quantile="0.9"} 9.5
restore_check_seconds_sum 88
restore_check_seconds_count 14
# HELP backups_total Backups done.
# TYPE backups_total counter
backups_total{db="main"} 6 1700000000000
# HELP backup_size_bytes Size of the last backup.
# TYPE backup_size_bytes gauge
backup_size_bytes{db="main",path="/srv/a \\"b\\""} 1.5e9`;

// The same kind of families as OpenMetrics, as an application's /metrics answers them.
const OPENMETRICS = `# TYPE queue_jobs counter
# HELP queue_jobs Jobs taken from the queue.
queue_jobs_total{queue="mail"} 17
queue_jobs_created{queue="mail"} 1700000000.5
# TYPE queue_latency_seconds histogram
# UNIT queue_latency_seconds seconds
queue_latency_seconds_bucket{le="0.5"} 3 # {trace_id="f00"} 0.2
queue_latency_seconds_bucket{le="+Inf"} 4
queue_latency_seconds_count 4
queue_latency_seconds_sum 1.25
# EOF
`;

let dir: string;
let server: Server;
let requestHeaders: IncomingHttpHeaders | undefined;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prometheus-output-'));
  server = createServer((req, res) => {
    requestHeaders = req.headers;
    res.writeHead(200, { 'content-type': 'application/openmetrics-text; version=1.0.0; charset=utf-8' }).end(OPENMETRICS);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
after(async () => {
  server.close();
  await rm(dir, { recursive: true, force: true });
});

test('command, http and file sources export Prometheus text and OpenMetrics as written; promtool reads the result', async (t) => {
  const promtool = requireTool(t, 'promtool', 'apt-get install prometheus');
  if (!promtool) return;
  const script = await shellScript(dir, 'backup-metrics.sh', `cat <<'EOF'\n${SCRIPT_OUTPUT}\nEOF`);
  await writeFile(join(dir, 'nightly.prom'), '# TYPE nightly_rows gauge\nnightly_rows{table="orders"} 120\n');
  const { port } = server.address() as AddressInfo;
  const config = join(dir, 'ok.yaml');
  await writeFile(
    config,
    [
      'sources:',
      `  - { kind: command, name: backups, command: [${script}], output: prometheus }`,
      `  - { kind: http, name: queue, url: "http://127.0.0.1:${port}/metrics", output: prometheus }`,
      `  - { kind: file, name: nightly, path: nightly.prom, output: prometheus }`,
    ].join('\n'),
  );
  const cli = await serveCli([`--config.file=${config}`]);
  try {
    const { body, samples } = await scrape(cli.url);
    for (const source of ['backups', 'queue', 'nightly'])
      assert.equal(samples.get(`custom_exporter_source_up{source="${source}"}`), 1, body);
    // The histogram as written (cumulative buckets), the summary as quantile gauges and _sum/_count gauges.
    assert.match(body, /# HELP backup_duration_seconds How long backups took\.\n# TYPE backup_duration_seconds histogram\n/);
    assert.equal(samples.get('backup_duration_seconds_bucket{db="main",le="10"}'), 2);
    assert.equal(samples.get('backup_duration_seconds_bucket{db="main",le="60"}'), 5);
    assert.equal(samples.get('backup_duration_seconds_bucket{db="main",le="+Inf"}'), 6);
    assert.equal(samples.get('backup_duration_seconds_sum{db="main"}'), 250.5);
    assert.equal(samples.get('backup_duration_seconds_count{db="main"}'), 6);
    assert.equal(samples.get('restore_check_seconds{quantile="0.5"}'), 4);
    assert.equal(samples.get('restore_check_seconds{quantile="0.9"}'), 9.5);
    assert.equal(samples.get('restore_check_seconds_sum'), 88);
    assert.equal(samples.get('restore_check_seconds_count'), 14);
    // The timestamp is dropped; labels keep their escapes.
    assert.match(body, /# TYPE backups_total counter\nbackups_total\{db="main"\} 6\n/);
    assert.equal(samples.get('backup_size_bytes{db="main",path="/srv/a \\"b\\""}'), 1.5e9);
    // OpenMetrics: the counter's _total, the unit, no _created, no exemplar; asked for with Prometheus' Accept.
    assert.equal(samples.get('queue_jobs_total{queue="mail"}'), 17);
    assert.doesNotMatch(body, /_created/);
    assert.match(body, /# UNIT queue_latency_seconds seconds\n# TYPE queue_latency_seconds histogram\n/);
    assert.equal(samples.get('queue_latency_seconds_bucket{le="0.5"}'), 3);
    assert.equal(samples.get('queue_latency_seconds_bucket{le="+Inf"}'), 4);
    assert.match(requestHeaders?.accept ?? '', /^application\/openmetrics-text;version=1\.0\.0/);
    assert.equal(samples.get('nightly_rows{table="orders"}'), 120);

    // promtool parses the whole page; its only findings are the summary's, which OpenTelemetry cannot type as one.
    const lint = spawnSync(promtool, ['check', 'metrics'], { input: body, encoding: 'utf8' });
    assert.equal(lint.status, 3, `promtool: ${lint.stdout}${lint.stderr}`);
    assert.deepEqual(lint.stderr.trim().split('\n').sort(), [
      // One per quantile series.
      'restore_check_seconds non-summary metrics should not have "quantile" label',
      'restore_check_seconds non-summary metrics should not have "quantile" label',
      'restore_check_seconds_count non-histogram and non-summary metrics should not have "_count" suffix',
      'restore_check_seconds_sum non-histogram and non-summary metrics should not have "_sum" suffix',
    ]);
    const withoutSummary = body
      .split('\n')
      .filter((line) => !line.includes('restore_check_seconds'))
      .join('\n');
    const clean = spawnSync(promtool, ['check', 'metrics'], { input: withoutSummary, encoding: 'utf8' });
    assert.equal(clean.status, 0, `promtool: ${clean.stdout}${clean.stderr}`);
  } finally {
    await cli.kill();
  }
});

test('a malformed line fails the source with reason parse and the line number, a repeated series with duplicate', async () => {
  const malformed = await shellScript(dir, 'malformed.sh', `printf '# TYPE a gauge\\na 1\\na{x="1"} one\\n'`);
  const duplicate = await shellScript(dir, 'duplicate.sh', `printf 'b{x="1",y="2"} 1\\nc 1\\nb{y="2",x="1"} 2\\n'`);
  const good = await shellScript(dir, 'good.sh', `echo 'still_here 1'`);
  const config = join(dir, 'bad.yaml');
  await writeFile(
    config,
    [
      'sources:',
      `  - { kind: command, name: malformed, command: [${malformed}], output: prometheus }`,
      `  - { kind: command, name: duplicate, command: [${duplicate}], output: prometheus }`,
      `  - { kind: command, name: good, command: [${good}], output: prometheus }`,
    ].join('\n'),
  );
  const cli = await serveCli([`--config.file=${config}`]);
  try {
    const { samples, body } = await scrape(cli.url);
    assert.equal(samples.get('custom_exporter_source_up{source="good"}'), 1, body);
    assert.equal(samples.get('still_here'), 1);
    assert.equal(samples.get('custom_exporter_source_up{source="malformed"}'), 0);
    assert.equal(samples.get('custom_exporter_source_errors_total{source="malformed",reason="parse"}'), 1);
    assert.equal(samples.get('custom_exporter_source_up{source="duplicate"}'), 0);
    assert.equal(samples.get('custom_exporter_source_errors_total{source="duplicate",reason="duplicate"}'), 1);
    // Nothing of a failed source is exported, not even its valid lines.
    assert.equal(samples.get('a'), undefined);
    assert.equal(samples.get('c'), undefined);
    const warning = (source: string) => cli.waitForLog((l) => l.msg === 'source collection failed' && l.source === source);
    assert.equal((await warning('malformed')).err, `the output of ${malformed}, line 3: the value of a is not a number: "one"`);
    assert.equal((await warning('duplicate')).err, `the output of ${duplicate}, line 3: b{y="2",x="1"} is written twice`);
  } finally {
    await cli.kill();
  }
});

test('check-config: metrics is required by JSON output and refused by Prometheus output', async () => {
  const config = join(dir, 'fields.yaml');
  await writeFile(
    config,
    [
      'sources:',
      '  - { kind: command, name: a, command: [x], output: prometheus, metrics: [{ name: m }] }',
      '  - { kind: file, name: b, path: x.json }',
    ].join('\n'),
  );
  const run = await runCli(['check-config', config]);
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /fields\.yaml:2:\d+: sources\[0\]\.metrics: not used with output: prometheus/);
  assert.match(run.stderr, /fields\.yaml:3:\d+: sources\[1\]\.metrics: required \(or set output: prometheus\)/);
});

test('the series limit holds for Prometheus text: a family with more series fails with series_limit', async () => {
  const many = await shellScript(dir, 'many.sh', `i=0; while [ $i -lt 6 ]; do echo "wide{i=\\"$i\\"} $i"; i=$((i+1)); done`);
  const config = join(dir, 'limit.yaml');
  await writeFile(
    config,
    ['global: { seriesLimit: 5 }', 'sources:', `  - { kind: command, name: wide, command: [${many}], output: prometheus }`].join('\n'),
  );
  const cli = await serveCli([`--config.file=${config}`]);
  try {
    await eventually(async () => {
      const { samples } = await scrape(cli.url);
      assert.equal(samples.get('custom_exporter_source_errors_total{source="wide",reason="series_limit"}'), 1);
      assert.equal(samples.get('wide{i="0"}'), undefined);
    });
  } finally {
    await cli.kill();
  }
});

/** CPU seconds the exporter's main thread and its worker threads (named WorkerThread by Node) have used, from /proc. */
function threadCpu(pid: number): { main: number; workers: number } {
  const cpu = { main: 0, workers: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // utime and stime, in clock ticks (100 per second), are the 12th and 13th fields after the command's ")".
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const seconds = (Number(fields[11]) + Number(fields[12])) / 100;
      if (tid === String(pid)) cpu.main += seconds;
      else if (comm === 'WorkerThread') cpu.workers += seconds;
    } catch {
      // A thread that ended meanwhile.
    }
  }
  return cpu;
}

test('large text is parsed in a worker thread: /healthz answers within 1 s meanwhile, and a bad line is still found by number', async () => {
  // ~3.5 MiB of valid series, then one bad line.
  const big = await shellScript(
    dir,
    'big.sh',
    `awk 'BEGIN { for (i = 0; i < 70000; i++) printf "big_series{path=\\"/api/v1/items/%d\\",method=\\"GET\\"} %d\\n", i, i; print "big_series{path=\\"x\\"} oops" }'`,
  );
  const config = join(dir, 'big.yaml');
  await writeFile(
    config,
    `global: { seriesLimit: 100000 }\nsources:\n  - { kind: command, name: big, command: [${big}], output: prometheus, maxOutputSize: 8MiB, timeout: 20s }\n`,
  );
  const cli = await serveCli([`--config.file=${config}`]);
  try {
    const before = threadCpu(cli.pid);
    const scraped = scrape(cli.url, { headers: { 'x-prometheus-scrape-timeout-seconds': '25' } });
    let done = false;
    const finished = () => {
      done = true;
    };
    scraped.then(finished, finished);
    let probes = 0;
    // The kubelet's probe timeout is 1 s.
    while (!done) {
      const started = performance.now();
      const health = await fetch(`${cli.url}/healthz`, { signal: AbortSignal.timeout(1000) });
      assert.equal(health.status, 200);
      assert.ok(performance.now() - started < 1000);
      probes++;
    }
    const { samples } = await scraped;
    const after = threadCpu(cli.pid);
    assert.ok(probes > 0);
    // The parse's CPU went to a worker thread, not to the thread that serves /metrics and /healthz (parsed in place,
    // the workers' share is 0: no worker is ever started).
    const [main, workers] = [after.main - before.main, after.workers - before.workers];
    assert.ok(workers > main, `CPU seconds during the scrape: main thread ${main}, worker threads ${workers}`);
    assert.equal(samples.get('custom_exporter_source_errors_total{source="big",reason="parse"}'), 1, cli.stderr().slice(-1000));
    const warning = await cli.waitForLog((l) => l.msg === 'source collection failed' && l.source === 'big');
    assert.equal(warning.err, `the output of ${big}, line 70001: the value of big_series is not a number: "oops"`);
  } finally {
    await cli.kill();
  }
});

test('over OTLP the families arrive in the OpenTelemetry data model: histogram, counter without _total, summary as gauges', async () => {
  const script = await shellScript(dir, 'otlp-metrics.sh', `cat <<'EOF'\n${SCRIPT_OUTPUT}\nEOF`);
  const config = join(dir, 'otlp.yaml');
  await writeFile(config, `sources:\n  - { kind: command, name: backups, command: [${script}], output: prometheus }\n`);
  const receiver = await (await OtlpReceiver.create('http/protobuf')).listen();
  const cli = await serveCli([`--config.file=${config}`], {
    env: {
      OTEL_METRICS_EXPORTER: 'prometheus,otlp',
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_METRIC_EXPORT_INTERVAL: '500',
      OTEL_METRIC_EXPORT_TIMEOUT: '400',
    },
  });
  try {
    const { metrics } = await receiver.next((e) => e.metrics.has('backup_duration_seconds'));
    const histogram = metrics.get('backup_duration_seconds')!;
    assert.equal(histogram.type, 'histogram');
    assert.equal(histogram.description, 'How long backups took.');
    assert.deepEqual(histogram.points, [{ attributes: { db: 'main' }, value: 6, sum: 250.5 }]);
    const counter = metrics.get('backups')!;
    assert.equal(counter.type, 'sum');
    assert.equal(counter.monotonic, true);
    assert.deepEqual(counter.points, [{ attributes: { db: 'main' }, value: 6 }]);
    assert.equal(metrics.get('restore_check_seconds')!.type, 'gauge');
    assert.deepEqual(
      metrics.get('restore_check_seconds')!.points.map((p) => [p.attributes.quantile, p.value]),
      [
        ['0.5', 4],
        ['0.9', 9.5],
      ],
    );
    assert.deepEqual(metrics.get('restore_check_seconds_count')!.points, [{ attributes: {}, value: 14 }]);
  } finally {
    await cli.kill();
    await receiver.close();
  }
});
