import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { runCli } from './support/cli.ts';
import { bothReject, escapeRegExp } from './support/config-error.ts';

// Issue 11: config files that are not what they seem get a clear, bounded error (exit 2, file:line:col: field:
// reason) from check-config and from start alike, and never hang, crash or flood the terminal.

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'config-hostile-'));
});

async function write(name: string, content: string | Buffer): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, content);
  return file;
}

describe('YAML that is not plain data', () => {
  test('an alias bomb is refused with file, line and column instead of a crash', { timeout: 30_000 }, async () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (const [i, name] of ['b', 'c', 'd', 'e', 'f', 'g'].entries()) {
      const previous = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`);
    }
    const file = await write('bomb.yaml', `${levels.join('\n')}\nsources:\n  - kind: demo\n`);
    await bothReject(file, new RegExp(`^${escapeRegExp(file)}:\\d+:\\d+: invalid YAML: .*alias`, 'm'));
  });

  test('unknown tags are errors, not strings', async () => {
    const vault = await write('vault.yaml', 'sources:\n  - kind: demo\n    name: !vault secret/demo\n');
    await bothReject(vault, new RegExp(`^${escapeRegExp(vault)}:3:11: invalid YAML: .*!vault`, 'm'));
    const js = await write('js.yaml', 'sources:\n  - kind: demo\n    name: !!js/function "() => 1"\n');
    await bothReject(js, new RegExp(`^${escapeRegExp(js)}:3:11: invalid YAML: .*js/function`, 'm'));
  });

  test('invalid UTF-8 is an error naming where it is, not silently replaced', async () => {
    const file = await write(
      'latin1.yaml',
      Buffer.concat([Buffer.from('sources:\n  - kind: demo\n    name: caf'), Buffer.from([0xe9, 0x0a])]),
    );
    await bothReject(file, new RegExp(`^${escapeRegExp(file)}:3:14: invalid UTF-8 \\(byte 0xe9\\)`, 'm'));
  });
});

describe('files that are not config files', () => {
  test('a FIFO is refused at once, not waited on', { timeout: 30_000 }, async () => {
    const fifo = join(dir, 'config.fifo');
    execFileSync('/usr/bin/mkfifo', [fifo]);
    await bothReject(fifo, new RegExp(`^${escapeRegExp(fifo)}: not a regular file \\(a FIFO\\)`, 'm'));
  });

  test('/dev/zero is refused, not read', { timeout: 30_000 }, async () => {
    await bothReject('/dev/zero', /^\/dev\/zero: not a regular file \(a character device\)/m);
  });

  test('a 50 MB random file is refused by size, with a one-line error', { timeout: 30_000 }, async () => {
    const file = await write('random.yaml', randomBytes(50 * 1024 * 1024));
    const { check } = await bothReject(
      file,
      new RegExp(`^${escapeRegExp(file)}: 52428800 bytes; a config file may have at most 1048576 bytes`, 'm'),
    );
    assert.equal(check.stderr.trim().split('\n').length, 1);
  });

  test('too many sources are refused before they are validated', { timeout: 30_000 }, async () => {
    const sources = Array.from({ length: 1001 }, (_, i) => `  - { kind: demo, name: d${i} }\n`).join('');
    const file = await write('many.yaml', `sources:\n${sources}`);
    await bothReject(file, new RegExp(`^${escapeRegExp(file)}:1:1: sources: 1001 sources; a config file may have at most 1000`, 'm'));
  });

  test('many errors with huge tokens: the output is bounded in lines and length', { timeout: 30_000 }, async () => {
    const token = 'x'.repeat(20_000);
    const sources = Array.from({ length: 30 }, (_, i) => `  - kind: demo\n    name: d${i}\n    timeout: "${token}"\n`).join('');
    const file = await write('huge-tokens.yaml', `sources:\n${sources}`);
    const { check } = await bothReject(
      file,
      new RegExp(`^${escapeRegExp(file)}:4:5: sources\\[0\\]\\.timeout: invalid duration "x+…`, 'm'),
    );
    const lines = check.stderr.trim().split('\n');
    assert.equal(lines.length, 21, check.stderr.slice(0, 2000));
    assert.equal(lines.at(-1), '… and 10 more problems');
    for (const line of lines) assert.ok(line.length <= 400, `line of ${line.length} characters`);
  });

  test('a bad JSONPath message has no raw control or lone surrogate characters', async () => {
    const file = await write(
      'jsonpath.yaml',
      'sources:\n  - kind: file\n    path: x.json\n    metrics:\n      - { name: rows, each: "$.", path: $.n }\n',
    );
    const { check } = await bothReject(
      file,
      new RegExp(`^${escapeRegExp(file)}:5:\\d+: sources\\[0\\]\\.metrics\\[0\\]\\.each: invalid JSONPath`, 'm'),
    );
    assert.match(check.stderr, /\\ud800-\\udbff/);
    // Lone surrogates reach the terminal as U+FFFD; C1 controls as themselves.
    assert.doesNotMatch(check.stderr, /[\u0080-\u009f\uFFFD]/);
  });
});

describe('the web config file follows the same rules', () => {
  test('a FIFO or an oversized file as --web.config.file exits 2 at once', { timeout: 30_000 }, async () => {
    const fifo = join(dir, 'web.fifo');
    execFileSync('/usr/bin/mkfifo', [fifo]);
    const run = await runCli([`--web.config.file=${fifo}`, '--log.format=json', '--web.listen-address=127.0.0.1:0']);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, new RegExp(`${escapeRegExp(fifo)}: not a regular file \\(a FIFO\\)`));
    const big = await write('web-big.yaml', `# ${'x'.repeat(5 * 1024 * 1024)}\n`);
    const bigRun = await runCli([`--web.config.file=${big}`, '--log.format=json', '--web.listen-address=127.0.0.1:0']);
    assert.equal(bigRun.code, 2, bigRun.stderr);
    assert.match(bigRun.stderr, /bytes; a web config file may have at most 1048576 bytes/);
  });

  test('a FIFO named as a certificate file in the web config exits 2 at once, naming the field', { timeout: 30_000 }, async () => {
    const fifo = join(dir, 'cert.fifo');
    execFileSync('/usr/bin/mkfifo', [fifo]);
    const web = await write('web-fifo-cert.yaml', 'tls_server_config:\n  cert_file: cert.fifo\n  key_file: cert.fifo\n');
    const run = await runCli([`--web.config.file=${web}`, '--log.format=json', '--web.listen-address=127.0.0.1:0']);
    assert.equal(run.code, 2, run.stderr);
    assert.match(
      run.stderr,
      new RegExp(
        `${escapeRegExp(web)}:2:3: tls_server_config\\.cert_file: cannot read ${escapeRegExp(fifo)}: not a regular file \\(a FIFO\\)`,
      ),
    );
  });
});
