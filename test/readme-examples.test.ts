import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { parseConfig } from '../src/config/load.ts';
import { builtinSources } from '../src/sources/registry.ts';
import { serveCli } from './support/cli.ts';
import { scrape } from './support/scrape.ts';
import { shellScript } from './support/shell-script.ts';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

test("the README's http, command and file examples are valid configs", () => {
  const blocks = [...README.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((y) => /kind: (http|command|file)\n/.test(y));
  assert.deepEqual(
    blocks.map((y) => /kind: (\w+)/.exec(y)![1]),
    ['http', 'http', 'command', 'file'], // the first: coming from json_exporter
  );
  // The files an example names must exist when it is loaded: create them beside a copy of it.
  const dir = mkdtempSync(join(tmpdir(), 'readme-'));
  for (const yaml of blocks) {
    for (const [, path] of yaml.matchAll(/(?:\bfile|caFile|certFile|keyFile): ([\w./-]+)/g)) {
      mkdirSync(dirname(join(dir, path!)), { recursive: true });
      writeFileSync(join(dir, path!), 'x\n');
    }
    const config = parseConfig(yaml, join(dir, 'README.md'), builtinSources);
    assert.equal(config.sources.length, 1);
  }
});

/** The YAML block the README marks with `<!-- migration: name -->`. */
function migrationExample(name: string): string {
  const marker = README.indexOf(`<!-- migration: ${name} -->\n\`\`\`yaml\n`);
  assert.ok(marker >= 0, `no migration example ${name}`);
  const start = README.indexOf('\n', README.indexOf('```yaml', marker)) + 1;
  return README.slice(start, README.indexOf('```', start));
}

test("the README's script_exporter migration runs: the script's histogram and summary on /metrics", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'readme-script-'));
  try {
    writeFileSync(join(dir, 'exporter.yaml'), migrationExample('script_exporter'));
    mkdirSync(join(dir, 'scripts'));
    await shellScript(
      join(dir, 'scripts'),
      'backup-metrics.sh',
      [
        "cat <<'EOF'",
        '# TYPE backup_duration_seconds histogram',
        'backup_duration_seconds_bucket{le="60"} 1',
        'backup_duration_seconds_bucket{le="+Inf"} 2',
        'backup_duration_seconds_sum 130',
        'backup_duration_seconds_count 2',
        '# TYPE backup_verify_seconds summary',
        'backup_verify_seconds{quantile="0.5"} 3',
        'backup_verify_seconds_sum 7',
        'backup_verify_seconds_count 2',
        'EOF',
      ].join('\n'),
    );
    const cli = await serveCli([`--config.file=${join(dir, 'exporter.yaml')}`]);
    try {
      const { samples, body } = await scrape(cli.url);
      assert.equal(samples.get('custom_exporter_source_up{source="backup"}'), 1, body);
      assert.equal(samples.get('custom_exporter_command_exit_code{source="backup"}'), 0);
      assert.match(body, /# TYPE backup_duration_seconds histogram\n/);
      assert.equal(samples.get('backup_duration_seconds_bucket{le="60"}'), 1);
      assert.equal(samples.get('backup_duration_seconds_count'), 2);
      assert.equal(samples.get('backup_verify_seconds{quantile="0.5"}'), 3);
      assert.equal(samples.get('backup_verify_seconds_sum'), 7);
    } finally {
      await cli.kill();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the README's textfile migration runs against a node_exporter textfile directory", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'readme-textfile-'));
  try {
    const textfiles = join(dir, 'textfile_collector');
    mkdirSync(textfiles);
    writeFileSync(join(textfiles, 'backup.prom'), '# HELP backup_ok Whether the backup succeeded.\n# TYPE backup_ok gauge\nbackup_ok 1\n');
    writeFileSync(join(textfiles, 'apt.prom'), '# TYPE apt_upgrades_pending gauge\napt_upgrades_pending{arch="amd64"} 4\n');
    const example = migrationExample('textfile');
    assert.match(example, /\/var\/lib\/node_exporter\/textfile_collector\/\*\.prom/);
    writeFileSync(join(dir, 'exporter.yaml'), example.replaceAll('/var/lib/node_exporter/textfile_collector', textfiles));
    const cli = await serveCli([`--config.file=${join(dir, 'exporter.yaml')}`]);
    try {
      const { samples, body } = await scrape(cli.url);
      assert.equal(samples.get('custom_exporter_source_up{source="cron"}'), 1, body);
      assert.equal(samples.get('custom_exporter_textfile_scrape_error{source="cron"}'), 0);
      assert.equal(samples.get('backup_ok'), 1);
      assert.equal(samples.get('apt_upgrades_pending{arch="amd64"}'), 4);
      assert.ok(samples.has(`custom_exporter_textfile_mtime_seconds{source="cron",file="${join(textfiles, 'apt.prom')}"}`));
    } finally {
      await cli.kill();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
