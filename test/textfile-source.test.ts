// kind: textfile through the real built CLI: real files, a real FIFO, a real writer process renaming files in a loop.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli, serveCli } from './support/cli.ts';
import { eventually } from './support/eventually.ts';
import { startPrometheus } from './support/prometheus.ts';
import { family, scrape } from './support/scrape.ts';
import { requireTool } from './support/tools.ts';

const SERIES = 3000;

/**
 * A cron-job-like writer rewriting `batch.prom` in `files` in a loop: every version holds all SERIES series with one
 * value (the version) and their total as a check, so a torn read would mix or lose them. `rename` writes a temporary
 * file and renames it over the old one (node_exporter's advice); `in-place` truncates and rewrites the file itself.
 */
function startWriter(files: string, how: 'rename' | 'in-place'): ChildProcess {
  const target = how === 'rename' ? '"$0/.tmp"' : '"$0/batch.prom"';
  const rename = how === 'rename' ? '; mv "$0/.tmp" "$0/batch.prom"' : '';
  const awk =
    `awk -v v=$i 'BEGIN { print "# HELP version_check_total Series written."; print "# TYPE version_check_total counter";` +
    ` print "version_check_total " v * ${SERIES}; print "# TYPE version gauge";` +
    ` for (j = 0; j < ${SERIES}; j++) printf "version{j=\\"%d\\"} %d\\n", j, v }'`;
  return spawn('sh', ['-c', `i=0; while :; do i=$((i+1)); ${awk} > ${target}${rename}; done`, files], { stdio: 'ignore' });
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'textfile-'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('files are merged per family; a conflicting, malformed or non-regular file is skipped and counted as a scrape error', async (t) => {
  const mkfifo = requireTool(t, 'mkfifo', 'apt-get install coreutils');
  if (!mkfifo) return;
  const files = join(dir, 'merge');
  await mkdir(files);
  const help = '# HELP backup_last_success_seconds When the backup last succeeded.\n# TYPE backup_last_success_seconds gauge\n';
  await writeFile(join(files, 'a.prom'), `${help}backup_last_success_seconds{job="a"} 100\n`);
  await writeFile(join(files, 'b.prom'), `${help}backup_last_success_seconds{job="b"} 200\nbackup_files{job="b"} 3\n`);
  await writeFile(join(files, 'ignored.txt'), 'not_a_prom_file 1\n');
  // A cron job that shares a family name with another type, one that writes garbage, one that repeats a series.
  await writeFile(join(files, 'c-conflict.prom'), '# TYPE backup_last_success_seconds counter\nbackup_last_success_seconds{job="c"} 1\n');
  await writeFile(join(files, 'd-malformed.prom'), 'fine 1\nbroken{job="d" 1\n');
  await writeFile(join(files, 'e-duplicate.prom'), 'backup_files{job="b"} 4\n');
  await writeFile(join(files, 'g-histogram.prom'), '# TYPE h histogram\nh_bucket{le="1"} 1\nh_count 1\n');
  await writeFile(join(files, 'h-forged.prom'), 'custom_exporter_source_up{source="cron"} 0\n');
  // A FIFO nobody writes to: opened non-blocking, refused at once.
  execFileSync(mkfifo, [join(files, 'f-fifo.prom')]);
  const config = join(dir, 'merge.yaml');
  await writeFile(config, `sources:\n  - { kind: textfile, name: cron, path: merge/*.prom }\n`);
  const cli = await serveCli([`--config.file=${config}`]);
  try {
    // Generous bound, tied to the default scrape timeout: the FIFO must not hold the scrape.
    const { samples, body } = await scrape(cli.url, { timeoutMs: 10_000 });
    assert.equal(samples.get('custom_exporter_source_up{source="cron"}'), 1, body);
    assert.match(body, /# HELP backup_last_success_seconds When the backup last succeeded\.\n# TYPE backup_last_success_seconds gauge\n/);
    assert.deepEqual(family(body, 'backup_last_success_seconds'), [
      ['backup_last_success_seconds{job="a"}', 100],
      ['backup_last_success_seconds{job="b"}', 200],
    ]);
    assert.deepEqual(family(body, 'backup_files'), [['backup_files{job="b"}', 3]]);
    assert.equal(samples.get('fine'), undefined, 'a malformed file is skipped whole');
    assert.equal(samples.get('not_a_prom_file'), undefined);
    assert.equal(samples.get('custom_exporter_textfile_scrape_error{source="cron"}'), 1);
    const mtime = (await stat(join(files, 'a.prom'))).mtimeMs / 1000;
    assert.equal(samples.get(`custom_exporter_textfile_mtime_seconds{source="cron",file="${join(files, 'a.prom')}"}`), mtime);
    assert.equal(samples.get(`custom_exporter_textfile_mtime_seconds{source="cron",file="${join(files, 'f-fifo.prom')}"}`), undefined);
    const skipped = (name: string) => cli.waitForLog((l) => l.msg === 'textfile skipped' && l.file === join(files, name));
    assert.match(
      (await skipped('c-conflict.prom')).err as string,
      /c-conflict\.prom: the type of backup_last_success_seconds is "counter", in .*a\.prom "gauge"/,
    );
    assert.match((await skipped('d-malformed.prom')).err as string, /d-malformed\.prom, line 2: expected , or \} after the label job/);
    assert.match(
      (await skipped('e-duplicate.prom')).err as string,
      /e-duplicate\.prom: backup_files with the same labels is also in .*b\.prom/,
    );
    assert.match((await skipped('f-fifo.prom')).err as string, /not a regular file \(a FIFO\)/);
    assert.match((await skipped('g-histogram.prom')).err as string, /g-histogram\.prom: histogram h\{\} has no le="\+Inf" bucket/);
    assert.match((await skipped('h-forged.prom')).err as string, /custom_exporter_source_up is reserved for the exporter's own metrics/);

    // Once the bad files are gone, the scrape error clears.
    for (const name of ['c-conflict.prom', 'd-malformed.prom', 'e-duplicate.prom', 'f-fifo.prom', 'g-histogram.prom', 'h-forged.prom']) {
      await unlink(join(files, name));
    }
    await eventually(async () => {
      const { samples } = await scrape(cli.url);
      assert.equal(samples.get('custom_exporter_textfile_scrape_error{source="cron"}'), 0);
    });
  } finally {
    await cli.kill();
  }
});

test('files replaced by rename in a loop are never read torn; promtool reads the result', async (t) => {
  const promtool = requireTool(t, 'promtool', 'apt-get install prometheus');
  if (!promtool) return;
  const files = join(dir, 'rename');
  await mkdir(files);
  const writer = startWriter(files, 'rename');
  t.after(() => writer.kill('SIGKILL'));
  await eventually(() => stat(join(files, 'batch.prom')));
  const config = join(dir, 'rename.yaml');
  await writeFile(config, 'sources:\n  - { kind: textfile, name: batch, path: rename/*.prom }\n');
  const cli = await serveCli([`--config.file=${config}`]);
  try {
    const versions = new Set<number>();
    let body = '';
    for (let scrapes = 0; scrapes < 25 || versions.size < 3; scrapes++) {
      assert.ok(scrapes < 200, `the writer produced only ${versions.size} versions in 200 scrapes`);
      const scraped = await scrape(cli.url);
      body = scraped.body;
      assert.equal(scraped.samples.get('custom_exporter_source_up{source="batch"}'), 1, body.slice(0, 2000));
      assert.equal(scraped.samples.get('custom_exporter_textfile_scrape_error{source="batch"}'), 0);
      const values = family(body, 'version').map(([, v]) => v);
      assert.equal(values.length, SERIES);
      const version = values[0]!;
      assert.ok(
        values.every((v) => v === version),
        'every series from one version of the file',
      );
      assert.equal(scraped.samples.get('version_check_total'), version * SERIES);
      versions.add(version);
    }
    const lint = spawnSync(promtool, ['check', 'metrics'], { input: body, encoding: 'utf8' });
    assert.equal(lint.status, 0, `promtool: ${lint.stdout}${lint.stderr}`);
  } finally {
    await cli.kill();
  }
});

test('more files than maxFiles fail the source with too_large', async () => {
  const files = join(dir, 'many');
  await mkdir(files);
  for (const n of [1, 2, 3]) await writeFile(join(files, `${n}.prom`), `file_${n} 1\n`);
  const config = join(dir, 'many.yaml');
  await writeFile(config, 'sources:\n  - { kind: textfile, name: many, path: many/*.prom, maxFiles: 2 }\n');
  const cli = await serveCli([`--config.file=${config}`]);
  try {
    const { samples } = await scrape(cli.url);
    assert.equal(samples.get('custom_exporter_source_errors_total{source="many",reason="too_large"}'), 1);
    assert.equal(samples.get('file_1'), undefined);
    const warning = await cli.waitForLog((l) => l.msg === 'source collection failed' && l.source === 'many');
    assert.match(warning.err as string, /more than 2 files match .*many\/\*\.prom \(maxFiles\)/);
  } finally {
    await cli.kill();
  }
});

test('control: the same check catches torn reads of a file rewritten in place', async (t) => {
  const files = join(dir, 'in-place');
  await mkdir(files);
  const writer = startWriter(files, 'in-place');
  t.after(() => writer.kill('SIGKILL'));
  await eventually(() => stat(join(files, 'batch.prom')));
  const config = join(dir, 'in-place.yaml');
  await writeFile(config, 'sources:\n  - { kind: textfile, name: batch, path: in-place/*.prom }\n');
  const cli = await serveCli([`--config.file=${config}`]);
  try {
    let torn = false;
    for (let scrapes = 0; scrapes < 300 && !torn; scrapes++) {
      const { samples, body } = await scrape(cli.url);
      const values = family(body, 'version').map(([, v]) => v);
      torn =
        samples.get('custom_exporter_textfile_scrape_error{source="batch"}') === 1 ||
        values.length !== SERIES ||
        samples.get('version_check_total') !== values[0]! * SERIES;
    }
    assert.ok(torn, 'no torn read in 300 scrapes of a file rewritten in place');
  } finally {
    await cli.kill();
  }
});

test('check-config refuses textfile limits out of range, naming the field', async () => {
  const config = join(dir, 'limits.yaml');
  await writeFile(
    config,
    [
      'sources:',
      '  - { kind: textfile, name: a, path: x/*.prom, maxFiles: 0 }',
      '  - { kind: textfile, name: b, path: x/*.prom, maxFileSize: 9MiB }',
    ].join('\n'),
  );
  const run = await runCli(['check-config', config]);
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /limits\.yaml:2:\d+: sources\[0\]\.maxFiles: /);
  assert.match(run.stderr, /limits\.yaml:3:\d+: sources\[1\]\.maxFileSize: invalid size "9MiB"/);
});

test('a real Prometheus scrapes textfile families: histogram_quantile over a histogram, a summary quantile by its labels', {
  timeout: 60_000,
}, async (t) => {
  const binary = requireTool(t, 'prometheus', 'apt-get install prometheus');
  if (!binary) return;
  const files = join(dir, 'prometheus');
  await mkdir(files);
  await writeFile(
    join(files, 'jobs.prom'),
    [
      '# HELP job_seconds How long jobs took.',
      '# TYPE job_seconds histogram',
      'job_seconds_bucket{job="nightly",le="1"} 0',
      'job_seconds_bucket{job="nightly",le="10"} 10',
      'job_seconds_bucket{job="nightly",le="+Inf"} 10',
      'job_seconds_sum{job="nightly"} 50',
      'job_seconds_count{job="nightly"} 10',
      '# TYPE job_wait_seconds summary',
      'job_wait_seconds{job="nightly",quantile="0.99"} 7.5',
      'job_wait_seconds_sum{job="nightly"} 20',
      'job_wait_seconds_count{job="nightly"} 10',
      '',
    ].join('\n'),
  );
  const config = join(dir, 'prometheus.yaml');
  await writeFile(config, 'sources:\n  - { kind: textfile, name: jobs, path: prometheus/*.prom }\n');
  const exporter = await serveCli([`--config.file=${config}`]);
  const prometheus = await startPrometheus(binary, [
    { job_name: 'textfile', scrape_interval: '1s', scrape_timeout: '1s', static_configs: [{ targets: [new URL(exporter.url).host] }] },
  ]);
  try {
    await prometheus.waitFor('up{job="textfile"}', (v) => v === 1);
    // All 10 observations in the (1, 10] bucket: the median interpolates to the middle, 5.5.
    assert.equal(await prometheus.waitFor('histogram_quantile(0.5, job_seconds_bucket)', () => true), 5.5);
    assert.equal(await prometheus.waitFor('job_wait_seconds{quantile="0.99"}', () => true), 7.5);
    assert.equal(await prometheus.waitFor('job_wait_seconds_sum / job_wait_seconds_count', () => true), 2);
  } finally {
    await prometheus.stop();
    await exporter.kill();
  }
});
