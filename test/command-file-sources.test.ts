import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseConfig } from '../src/config/load.ts';
import { builtinSources } from '../src/sources/registry.ts';
import { eventually } from './support/eventually.ts';
import { startTestExporter } from './support/exporter.ts';
import { alive } from './support/process-alive.ts';
import { scrape } from './support/scrape.ts';
import { shellScript } from './support/shell-script.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'command-file-'));
});
after(() => rm(dir, { recursive: true, force: true }));

describe('command source', () => {
  test('maps JSON output, or a single number, with env and working directory; exposes the exit code', async () => {
    const json = await shellScript(
      dir,
      'json.sh',
      'printf \'{"jobs": {"done": %s}, "dir": "%s", "workers": [{"id": "w1", "busy": true}, {"id": "w2", "busy": false}]}\' "$DONE" "$(pwd)"',
    );
    const number = await shellScript(dir, 'number.sh', 'echo " 42 "');
    const exporter = await startTestExporter(
      [
        'sources:',
        `  - kind: command`,
        `    name: jobs`,
        `    command: [${json}]`,
        `    env: { DONE: "17" }`,
        `    cwd: ${tmpdir()}`,
        `    metrics:`,
        `      - { name: jobs_done, type: counter, path: $.jobs.done, labels: { dir: $.dir } }`,
        `      - { name: worker_busy, each: '$.workers[*]', path: $.busy, labels: { worker: $.id } }`,
        `  - { kind: command, name: answer, command: [${number}], output: number, metrics: [{ name: the_answer }] }`,
      ].join('\n'),
    );
    try {
      const all = (await scrape(exporter.url)).samples;
      assert.equal(all.get(`jobs_done_total{dir="${tmpdir()}"}`), 17);
      assert.equal(all.get('worker_busy{worker="w1"}'), 1);
      assert.equal(all.get('worker_busy{worker="w2"}'), 0);
      assert.equal(all.get('the_answer'), 42);
      assert.equal(all.get('custom_exporter_command_exit_code{source="jobs"}'), 0);
    } finally {
      await exporter.stop();
    }
  });

  test('a non-zero exit, bad output and a missing program fail with their reasons; the others stay up', async () => {
    const failing = await shellScript(dir, 'fail.sh', 'echo "disk full" >&2\nexit 3');
    const garbage = await shellScript(dir, 'garbage.sh', 'echo "not json"');
    const words = await shellScript(dir, 'words.sh', 'echo "forty-two"');
    const exporter = await startTestExporter(
      [
        'sources:',
        '  - kind: demo',
        `  - { kind: command, name: failing, command: [${failing}], metrics: [{ name: a }] }`,
        `  - { kind: command, name: garbage, command: [${garbage}], metrics: [{ name: b }] }`,
        `  - { kind: command, name: words, command: [${words}], output: number, metrics: [{ name: c }] }`,
        `  - { kind: command, name: missing, command: [${join(dir, 'nope')}], metrics: [{ name: d }] }`,
      ].join('\n'),
    );
    try {
      const all = (await scrape(exporter.url)).samples;
      assert.equal(all.get('custom_exporter_source_up{source="demo"}'), 1);
      assert.equal(all.get('custom_exporter_source_errors_total{source="failing",reason="exit_code"}'), 1);
      assert.equal(all.get('custom_exporter_command_exit_code{source="failing"}'), 3);
      assert.equal(all.get('custom_exporter_source_errors_total{source="garbage",reason="parse"}'), 1);
      assert.equal(all.get('custom_exporter_source_errors_total{source="words",reason="parse"}'), 1);
      assert.equal(all.get('custom_exporter_source_errors_total{source="missing",reason="error"}'), 1);
      for (const name of ['failing', 'garbage', 'words', 'missing'])
        assert.equal(all.get(`custom_exporter_source_up{source="${name}"}`), 0, name);
      assert.equal(exporter.status().find((s) => s.name === 'failing')?.lastError, `${failing} exited with 3: disk full`);
    } finally {
      await exporter.stop();
    }
  });

  test('a command that sleeps is cut off at the timeout, and it and its children are gone afterwards', async () => {
    const pids = join(dir, 'pids');
    const sleeper = await shellScript(dir, 'sleeper.sh', `sleep 60 &\necho $! >> ${pids}\necho $$ >> ${pids}\nsleep 60`);
    const exporter = await startTestExporter(
      `sources:\n  - { kind: command, name: sleeper, command: [${sleeper}], timeout: 500ms, metrics: [{ name: z }] }`,
    );
    try {
      const all = (await scrape(exporter.url)).samples;
      assert.equal(all.get('custom_exporter_source_errors_total{source="sleeper",reason="timeout"}'), 1);
      assert.equal(exporter.status().find((s) => s.name === 'sleeper')?.lastError, 'collection timed out after 500 ms');
      const spawned = (await readFile(pids, 'utf8')).trim().split('\n').map(Number);
      assert.equal(spawned.length, 2);
      await eventually(async () => {
        const left = (await Promise.all(spawned.map(async (pid) => ((await alive(pid)) ? [pid] : [])))).flat();
        assert.deepEqual(left, [], 'the script and its background child were killed');
      });
    } finally {
      await exporter.stop();
    }
  });

  test('config: the command must not be empty', () => {
    assert.throws(
      () => parseConfig('sources:\n  - kind: command\n    command: []\n    metrics: [{ name: a }]\n', 'sources.yaml', builtinSources),
      {
        message: 'sources.yaml:3:5: sources[0].command: give the program and its arguments, such as [./queue-depth.sh, --json]',
      },
    );
  });
});

describe('file source', () => {
  test('maps the JSON file, follows its rewrites and reports its modification age', async () => {
    const file = join(dir, 'report.json');
    await writeFile(file, JSON.stringify({ backups: { ok: 3 } }));
    const anHourAgo = new Date(Date.now() - 3600_000);
    await utimes(file, anHourAgo, anHourAgo);
    const exporter = await startTestExporter(
      `sources:\n  - { kind: file, name: report, path: ${file}, metrics: [{ name: backups_ok, path: $.backups.ok }] }`,
    );
    try {
      const first = (await scrape(exporter.url)).samples;
      assert.equal(first.get('backups_ok'), 3);
      const age = first.get('custom_exporter_file_age_seconds{source="report"}')!;
      assert.ok(age >= 3600 && age < 3700, `age ${age}`);
      await writeFile(file, JSON.stringify({ backups: { ok: 4 } }));
      const second = (await scrape(exporter.url)).samples;
      assert.equal(second.get('backups_ok'), 4);
      assert.ok(second.get('custom_exporter_file_age_seconds{source="report"}')! < 60);
    } finally {
      await exporter.stop();
    }
  });

  test('a missing file fails with error, invalid JSON with parse', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{"half": ');
    const exporter = await startTestExporter(
      `sources:\n  - { kind: file, name: absent, path: ${join(dir, 'absent.json')}, metrics: [{ name: a }] }\n  - { kind: file, name: bad, path: ${bad}, metrics: [{ name: b }] }`,
    );
    try {
      const all = (await scrape(exporter.url)).samples;
      assert.equal(all.get('custom_exporter_source_errors_total{source="absent",reason="error"}'), 1);
      assert.equal(all.get('custom_exporter_source_errors_total{source="bad",reason="parse"}'), 1);
      assert.ok(
        all.has('custom_exporter_file_age_seconds{source="bad"}'),
        'the age of a file that exists is reported even when it cannot be parsed',
      );
    } finally {
      await exporter.stop();
    }
  });
});
