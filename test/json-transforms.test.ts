// Value transforms (issue 14): regex, parseTime, scale, trim and lowercase, with odd inputs, through the built
// exporter (dist/main.js) collecting from a real local HTTP server.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli, type ServingCli, serveCli } from './support/cli.ts';
import { assertConfigRejects } from './support/config-error.ts';
import { get } from './support/http-get.ts';
import { type JsonTarget, startJsonTarget } from './support/json-target.ts';
import { scrape } from './support/scrape.ts';

// A pattern that backtracks exponentially on a run of a's that does not end the text.
const CATASTROPHIC = '^(a+)+$';
const EVIL = `${'a'.repeat(40)}!`;

const ODD = {
  latency: '  12.5 ms ',
  status: ' UP ',
  version: 'version=abc',
  leap: '2016-12-31T23:59:60Z',
  leap61: '2016-12-31T23:59:61Z',
  offset: '2024-05-01T12:00:00.250+02:00',
  noOffset: '2024-05-01T12:00:00',
  feb30: '2024-02-30T00:00:00Z',
  // 02:30 does not exist in Berlin that night: clocks go from 02:00 to 03:00 (CET to CEST).
  berlinGap: '31/03/2024 02:30:00',
  // 02:30 happens twice that night: clocks go back from 03:00 CEST to 02:00 CET.
  berlinTwice: '27/10/2024 02:30:00',
  newYork: '2024-05-01T12:00',
  apache: '10/Oct/2000:13:55:36 -0700',
  twelveHour: '5/1/2024 12:05 AM',
  huge: 1e308,
  hugeText: '1e999',
  long: `${'7'.repeat(200)}`,
  regexTooLong: 'x'.repeat(5000),
  evil: EVIL,
};

let target: JsonTarget;
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'json-transforms-'));
  target = await startJsonTarget({ '/odd': () => ({ json: ODD }), '/evil': () => ({ json: { evil: EVIL } }) });
});
after(() => target.close());

async function serve(name: string, sources: string): Promise<ServingCli> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, `sources:\n${sources}`);
  return serveCli([`--config.file=${file}`]);
}

const source = (name: string, metrics: string, path = '/odd', extra = '') =>
  `  - kind: http\n    name: ${name}\n    url: ${target.url}${path}\n${extra}    metrics:\n${metrics
    .trim()
    .split('\n')
    .map((l) => `      ${l.trim()}\n`)
    .join('')}`;

describe('value transforms, through the built exporter', () => {
  test('regex, scale, trim, lowercase and parseTime (time zones, offsets, a leap second) give the numbers', async () => {
    const cli = await serve(
      'good',
      source(
        'good',
        `
        - { name: latency_seconds, path: $.latency, transform: [trim, { regex: '^(?<value>[0-9.]+) ms$' }, { scale: 0.001 }] }
        - { name: up, path: $.status, transform: [trim, lowercase], valueMap: { up: 1, down: 0 } }
        - { name: leap_second, path: $.leap, transform: [{ parseTime: rfc3339 }] }
        - { name: with_offset, path: $.offset, transform: [{ parseTime: rfc3339 }] }
        - { name: iso_utc, path: $.noOffset, transform: [{ parseTime: iso8601 }] }
        - { name: berlin_gap, path: $.berlinGap, transform: [{ parseTime: { format: '%d/%m/%Y %H:%M:%S', timeZone: Europe/Berlin } }] }
        - { name: berlin_twice, path: $.berlinTwice, transform: [{ parseTime: { format: '%d/%m/%Y %H:%M:%S', timeZone: Europe/Berlin } }] }
        - { name: new_york, path: $.newYork, transform: [{ parseTime: { format: iso8601, timeZone: America/New_York } }] }
        - { name: apache_log, path: $.apache, transform: [{ parseTime: '%d/%b/%Y:%H:%M:%S %z' }] }
        - { name: twelve_hour, path: $.twelveHour, transform: [{ parseTime: '%m/%d/%Y %I:%M %p' }] }
        - { name: trimmed_number, path: $.huge, transform: [trim, lowercase] }
        `,
      ),
    );
    try {
      const { body, samples } = await scrape(cli.url);
      assert.equal(samples.get('custom_exporter_source_up{source="good"}'), 1, body);
      assert.equal(samples.get('latency_seconds'), 0.0125);
      assert.equal(samples.get('up'), 1);
      // Unix time has no leap seconds: 23:59:60 is the next second, 2017-01-01T00:00:00Z.
      assert.equal(samples.get('leap_second'), Date.UTC(2017, 0, 1) / 1000);
      assert.equal(samples.get('with_offset'), Date.UTC(2024, 4, 1, 10) / 1000 + 0.25);
      assert.equal(samples.get('iso_utc'), Date.UTC(2024, 4, 1, 12) / 1000);
      // Moved forward by the gap: 03:30 CEST, 01:30 UTC.
      assert.equal(samples.get('berlin_gap'), Date.UTC(2024, 2, 31, 1, 30) / 1000);
      // The earlier of the two: 02:30 CEST, 00:30 UTC.
      assert.equal(samples.get('berlin_twice'), Date.UTC(2024, 9, 27, 0, 30) / 1000);
      assert.equal(samples.get('new_york'), Date.UTC(2024, 4, 1, 16) / 1000);
      assert.equal(samples.get('apache_log'), Date.UTC(2000, 9, 10, 20, 55, 36) / 1000);
      assert.equal(samples.get('twelve_hour'), Date.UTC(2024, 4, 1, 0, 5) / 1000);
      assert.equal(samples.get('trimmed_number'), 1e308);
    } finally {
      await cli.kill();
    }
  });

  test('command and file sources share the mapping: a real program and a real file, transformed', async () => {
    const report = join(dir, 'report.json');
    await writeFile(report, JSON.stringify({ disks: { sda: { used: '41 %' }, sdb: { used: '7 %' } } }));
    const cli = await serve(
      'kinds',
      `  - kind: command
    name: backup
    command: [sh, -c, 'echo "{\\"finished\\": \\"2024-05-01 14:00:00\\", \\"size\\": \\"2048 KiB\\"}"']
    metrics:
      - { name: backup_finished_seconds, path: $.finished, transform: [{ parseTime: { format: iso8601, timeZone: Europe/Paris } }] }
      - { name: backup_size_bytes, path: $.size, transform: [{ regex: '^(\\d+) KiB$' }, { scale: 1024 }] }
  - kind: command
    name: count
    command: [sh, -c, 'echo " 12 "']
    output: number
    metrics: [{ name: counted_thousands, transform: [{ scale: 1000 }] }]
  - kind: file
    name: disks
    path: ${report}
    metrics:
      - { name: disk_used_ratio, each: '$.disks.*', path: $.used, labels: { disk: '@key' }, transform: [{ regex: '(\\d+) %' }, { scale: 0.01 }] }
`,
    );
    try {
      const { body, samples } = await scrape(cli.url);
      for (const name of ['backup', 'count', 'disks']) assert.equal(samples.get(`custom_exporter_source_up{source="${name}"}`), 1, body);
      assert.equal(samples.get('backup_finished_seconds'), Date.UTC(2024, 4, 1, 12) / 1000);
      assert.equal(samples.get('backup_size_bytes'), 2048 * 1024);
      assert.equal(samples.get('counted_thousands'), 12_000);
      // 41 × 0.01 in binary floating point: 0.41000000000000003.
      assert.ok(Math.abs(samples.get('disk_used_ratio{disk="sda"}')! - 0.41) < 1e-12, body);
      assert.ok(Math.abs(samples.get('disk_used_ratio{disk="sdb"}')! - 0.07) < 1e-12, body);
    } finally {
      await cli.kill();
    }
  });

  test('each odd input fails its source with reason value, naming the metric, the step and the input (shortened)', async () => {
    const failing: Record<string, [metric: string, message: string]> = {
      capture: [
        "{ name: build_version, path: $.version, transform: [{ regex: 'version=(\\w+)' }] }",
        'metric build_version: "abc" after transform[0] regex is not a number',
      ],
      nomatch: [
        "{ name: nomatch, path: $.status, transform: [{ regex: '^(\\d+)$' }] }",
        'metric nomatch: transform[0] regex: does not match /^(\\d+)$/ (input " UP ")',
      ],
      leap61: [
        '{ name: leap61, path: $.leap61, transform: [{ parseTime: rfc3339 }] }',
        'metric leap61: transform[0] parseTime: second 61 is not 0 to 60 (input "2016-12-31T23:59:61Z")',
      ],
      feb30: [
        '{ name: feb30, path: $.feb30, transform: [{ parseTime: rfc3339 }] }',
        'metric feb30: transform[0] parseTime: day 30 is not in 2024-02 (input "2024-02-30T00:00:00Z")',
      ],
      nooffset: [
        '{ name: nooffset, path: $.noOffset, transform: [{ parseTime: rfc3339 }] }',
        'metric nooffset: transform[0] parseTime: not rfc3339 (input "2024-05-01T12:00:00")',
      ],
      overflow: [
        '{ name: overflow, path: $.huge, transform: [{ scale: 10 }] }',
        'metric overflow: transform[0] scale: out of range after scaling by 10 (input 1e+308)',
      ],
      infinite: [
        '{ name: infinite, path: $.hugeText, transform: [{ scale: 1 }] }',
        'metric infinite: transform[0] scale: out of range (input "1e999")',
      ],
      notnumber: [
        '{ name: notnumber, path: $.status, transform: [trim, { scale: 2 }] }',
        'metric notnumber: transform[1] scale: not a number (input "UP")',
      ],
      long: [
        '{ name: long, path: $.long, transform: [{ parseTime: iso8601 }] }',
        `metric long: transform[0] parseTime: not iso8601 (input "${'7'.repeat(62)}…)`,
      ],
      regexlong: [
        "{ name: regexlong, path: $.regexTooLong, transform: [{ regex: '(x+)' }] }",
        `metric regexlong: transform[0] regex: longer than 4096 characters (input "${'x'.repeat(62)}…)`,
      ],
      object: [
        '{ name: object, path: $, transform: [trim] }',
        'metric object: transform[0] trim: not a string or number (input an object)',
      ],
    };
    const cli = await serve(
      'bad',
      Object.entries(failing)
        .map(([name, [metric]]) => source(name, `- ${metric}`))
        .join(''),
    );
    try {
      const { samples } = await scrape(cli.url);
      for (const [name, [, message]] of Object.entries(failing)) {
        assert.equal(samples.get(`custom_exporter_source_up{source="${name}"}`), 0, name);
        assert.equal(samples.get(`custom_exporter_source_errors_total{source="${name}",reason="value"}`), 1, name);
        const line = await cli.waitForLog((l) => l.msg === 'source collection failed' && l.source === name);
        assert.equal(line.err, message, name);
      }
    } finally {
      await cli.kill();
    }
  });

  test('a catastrophically backtracking regex costs a worker until the source timeout, never /healthz or /metrics', async () => {
    // Positive control: the pattern really does not finish on this input within 3 s.
    const control = spawnSync(process.execPath, ['-e', `/${CATASTROPHIC}/.test(${JSON.stringify(EVIL)})`], { timeout: 3000 });
    assert.equal(control.signal, 'SIGTERM', 'the regex finished: it is not catastrophic on this input');
    const cli = await serve(
      'redos',
      `${source('redos', `- { name: evil, path: $.evil, transform: [{ regex: '${CATASTROPHIC}' }] }`, '/evil', '    timeout: 2s\n')}  - kind: demo\n`,
    );
    try {
      const scraping = scrape(cli.url, { timeoutMs: 15_000 });
      // While the worker backtracks, the event loop answers the probe within kubelet's 1 s timeout.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const health = await get(`${cli.url}/healthz`);
      assert.equal(health.status, 200);
      assert.ok(health.ms < 1000, `/healthz took ${health.ms} ms during the regex`);
      const { samples } = await scraping;
      assert.equal(samples.get('custom_exporter_source_up{source="redos"}'), 0);
      assert.equal(samples.get('custom_exporter_source_errors_total{source="redos",reason="timeout"}'), 1);
      assert.ok(samples.has('random_number'), 'the other source is served');
      const line = await cli.waitForLog((l) => l.msg === 'source collection failed' && l.source === 'redos');
      assert.equal(line.err, 'collection timed out after 2000 ms');
      // The worker was stopped at the deadline: the next collection gets one and times out the same way.
      const again = await scrape(cli.url, { timeoutMs: 15_000 });
      assert.equal(again.samples.get('custom_exporter_source_errors_total{source="redos",reason="timeout"}'), 2);
    } finally {
      await cli.kill();
    }
  });
});

describe('value transforms, checked when the config is loaded', () => {
  const http = (transform: string) =>
    `sources:\n  - kind: http\n    url: http://x/\n    metrics:\n      - name: a\n        transform: ${transform}\n`;

  test('a bad regex, a layout, a time zone or an unknown step names the field and the reason', () => {
    assertConfigRejects(
      http("[{ regex: '(unclosed' }]"),
      'sources.yaml:6:23: sources[0].metrics[0].transform[0].regex: Invalid regular expression: /(unclosed/: Unterminated group',
    );
    assertConfigRejects(
      http("[{ regex: '\\d+' }]"),
      'sources.yaml:6:23: sources[0].metrics[0].transform[0].regex: needs a capturing group: ( ) around the value',
    );
    assertConfigRejects(
      http("[{ parseTime: '%Y-%m-%d %Q' }]"),
      'sources.yaml:6:23: sources[0].metrics[0].transform[0].parseTime: format "%Y-%m-%d %Q": unknown directive %Q (known: %Y %m %d %H %I %p %M %S %f %z %b %%)',
    );
    assertConfigRejects(
      http("[{ parseTime: '%H:%M' }]"),
      'sources.yaml:6:23: sources[0].metrics[0].transform[0].parseTime: format "%H:%M": a layout needs %Y, %m (or %b) and %d (named formats: rfc3339, iso8601)',
    );
    assertConfigRejects(
      http('[{ parseTime: { format: iso8601, timeZone: Mars/Olympus } }]'),
      'sources.yaml:6:53: sources[0].metrics[0].transform[0].parseTime.timeZone: unknown time zone "Mars/Olympus" (UTC or an IANA name)',
    );
    assertConfigRejects(
      http('[{ parseTime: { format: rfc3339, timeZone: UTC } }]'),
      'sources.yaml:6:53: sources[0].metrics[0].transform[0].parseTime.timeZone: an RFC 3339 time has its own offset: leave out timeZone',
    );
    const stepShape = 'a step is trim, lowercase, or one of { regex: … }, { parseTime: … }, { scale: <number> }';
    for (const step of ['uppercase', "{ scale: 'ten' }", '{ scale: .inf }', "{ regex: '(a)', scale: 2 }"])
      assertConfigRejects(http(`[${step}]`), `sources.yaml:6:21: sources[0].metrics[0].transform[0]: ${stepShape}`);
    assertConfigRejects(http('[]'), 'sources.yaml:6:9: sources[0].metrics[0].transform: give at least one step, or leave out transform');
  });

  test('check-config exits 2 on a bad regex, naming the file, line, column and field', async () => {
    const file = join(dir, 'bad-regex.yaml');
    await writeFile(file, http("[{ regex: '(unclosed' }]"));
    const run = await runCli(['check-config', file]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(
      run.stderr,
      new RegExp(
        `^${file}:6:23: sources\\[0\\]\\.metrics\\[0\\]\\.transform\\[0\\]\\.regex: Invalid regular expression: /\\(unclosed/: Unterminated group\n$`,
      ),
    );
  });
});
