// Secrets in `url`, `headers`, `body` and `command` `env` (issue 14): read at every collection, and never shown.
// Everything here runs the built CLI (dist/main.js) against real local HTTP servers and real shell scripts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli, serveCli } from './support/cli.ts';
import { bothReject, escapeRegExp } from './support/config-error.ts';
import { eventually } from './support/eventually.ts';
import { scrape } from './support/scrape.ts';
import { shellScript } from './support/shell-script.ts';

interface SeenRequest {
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** A real HTTP server on 127.0.0.1 that records every request and answers with `answer`. */
async function startTarget(
  answer: (req: SeenRequest) => { status: number; json?: unknown; location?: string },
): Promise<{ url: string; seen: SeenRequest[]; close(): Promise<void> }> {
  const seen: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const request = { url: req.url ?? '', headers: req.headers, body };
      seen.push(request);
      const { status, json, location } = answer(request);
      res.writeHead(status, { 'content-type': 'application/json', ...(location && { location }) });
      res.end(JSON.stringify(json ?? {}));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Every run of 12 characters of `secret`: a message that shows any of them shows part of the secret. */
function pieces(secret: string): string[] {
  return Array.from({ length: secret.length - 11 }, (_, i) => secret.slice(i, i + 12));
}

/** Replaces `file` the way a secret manager or kubelet does: write a new file, then rename it over the old one. */
async function rotate(file: string, content: string): Promise<void> {
  await writeFile(`${file}.new`, content);
  await rename(`${file}.new`, file);
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'secrets-'));
});
after(() => rm(dir, { recursive: true, force: true }));

describe('secrets in url, headers, body and command env', () => {
  test('a rotated secret file is used by the next collection, without a restart', async (t) => {
    // The target accepts only the current generation's token (in the URL), key (a header) and body, all from secrets.
    let generation = 'one';
    const target = await startTarget(({ url, headers, body }) =>
      url === `/stats?token=token-${generation}` && headers['x-api-key'] === `key-${generation}` && body === `{"since":"${generation}"}`
        ? { status: 200, json: { generation: generation === 'one' ? 1 : 2 } }
        : { status: 401 },
    );
    t.after(() => target.close());
    const urlFile = join(dir, 'rotating-url');
    const keyFile = join(dir, 'rotating-key');
    const bodyFile = join(dir, 'rotating-body');
    const levelFile = join(dir, 'rotating-level');
    await writeFile(urlFile, `${target.url}/stats?token=token-one\n`);
    await writeFile(keyFile, 'key-one\n');
    await writeFile(bodyFile, '{"since":"one"}');
    await writeFile(levelFile, '1');
    const level = await shellScript(dir, 'level.sh', 'printf "%s" "$LEVEL"');
    const config = join(dir, 'rotating.yaml');
    await writeFile(
      config,
      [
        'sources:',
        '  - kind: http',
        '    name: rotating',
        '    url: { file: rotating-url }',
        '    method: POST',
        '    headers: { x-api-key: { file: rotating-key } }',
        '    body: { file: rotating-body }',
        '    metrics: [{ name: rotating_generation, path: $.generation }]',
        '  - kind: command',
        '    name: level',
        `    command: [${level}]`,
        '    env: { LEVEL: { file: rotating-level } }',
        '    output: number',
        '    metrics: [{ name: rotating_level }]',
      ].join('\n'),
    );
    const cli = await serveCli([`--config.file=${config}`]);
    try {
      const first = (await scrape(cli.url)).samples;
      assert.equal(first.get('rotating_generation'), 1);
      assert.equal(first.get('rotating_level'), 1);
      generation = 'two';
      await rotate(urlFile, `${target.url}/stats?token=token-two\n`);
      await rotate(keyFile, 'key-two\n');
      await rotate(bodyFile, '{"since":"two"}');
      await rotate(levelFile, '2');
      const second = (await scrape(cli.url)).samples;
      assert.equal(second.get('rotating_generation'), 2, 'the next collection reads the rotated files');
      assert.equal(second.get('rotating_level'), 2);
      const last = target.seen.at(-1)!;
      assert.equal(last.url, '/stats?token=token-two');
      assert.equal(last.headers['x-api-key'], 'key-two');
      assert.equal(last.body, '{"since":"two"}');

      // A url file that no longer holds an http(s) URL fails the collection, naming the file, not quoting it.
      await rotate(urlFile, 'ftp://someone:not-http-7e3f@127.0.0.1/');
      assert.equal((await scrape(cli.url)).samples.get('custom_exporter_source_up{source="rotating"}'), 0);
      const notHttp = await cli.waitForLog((l) => l.msg === 'source collection failed' && l.source === 'rotating');
      assert.equal(notHttp.err, `url: the file ${urlFile} does not hold an http:// or https:// URL`);
      assert.ok(!cli.stderr().includes('not-http-7e3f'), cli.stderr());
      await rotate(urlFile, `${target.url}/stats?token=token-two\n`);
      assert.equal((await scrape(cli.url)).samples.get('rotating_generation'), 2);

      // A secret file that disappears fails the collection, naming the file; the other source stays up.
      await rm(keyFile);
      const third = (await scrape(cli.url)).samples;
      assert.equal(third.get('custom_exporter_source_up{source="rotating"}'), 0);
      assert.equal(third.get('custom_exporter_source_up{source="level"}'), 1);
      await cli.waitForLog(
        (l) =>
          l.msg === 'source collection failed' &&
          l.source === 'rotating' &&
          new RegExp(`^headers\\.x-api-key: cannot read ${escapeRegExp(keyFile)}: .*ENOENT`).test(String(l.err)),
      );
    } finally {
      await cli.kill();
    }
  });

  test('an inline URL with userinfo is shown without it', async (t) => {
    const target = await startTarget(() => ({ status: 500 }));
    t.after(() => target.close());
    const config = join(dir, 'inline.yaml');
    const authority = target.url.replace('http://', '');
    await writeFile(
      config,
      `sources:\n  - { kind: http, url: 'http://someone:inline-pw-0d1c@${authority}/x?q=1', metrics: [{ name: a, path: $.a }] }\n`,
    );
    const cli = await serveCli([`--config.file=${config}`]);
    try {
      await scrape(cli.url);
      const failure = await cli.waitForLog((l) => l.msg === 'source collection failed');
      assert.equal(failure.err, `http://<redacted>@${authority}/x?q=1 answered 500 (accepted: 200)`);
      const landing = await (await fetch(`${cli.url}/`)).text();
      assert.ok(landing.includes(`http://&#60;redacted&#62;@${authority}/x?q=1 answered 500`), landing);
      assert.ok(!cli.stderr().includes('inline-pw-0d1c'), cli.stderr());
    } finally {
      await cli.kill();
    }
  });

  for (const [field, yaml] of [
    ['url', '    url: { env: SECRETS_TEST_UNSET }\n'],
    ['headers.x-api-key', '    url: http://127.0.0.1:1/\n    headers: { x-api-key: { env: SECRETS_TEST_UNSET } }\n'],
    ['body', '    url: http://127.0.0.1:1/\n    method: POST\n    body: { env: SECRETS_TEST_UNSET }\n'],
  ] as const) {
    test(`an unset variable in ${field}: check-config and start both exit 2 naming the field`, async () => {
      const file = join(dir, `unset-${field}.yaml`);
      await writeFile(file, `sources:\n  - kind: http\n${yaml}    metrics: [{ name: a, path: $.a }]\n`);
      await bothReject(
        file,
        new RegExp(
          `${escapeRegExp(file)}:\\d+:\\d+: sources\\[0\\]\\.${escapeRegExp(field)}\\.env: environment variable SECRETS_TEST_UNSET is not set`,
        ),
      );
    });
  }

  test('an unset variable or a missing file in a command env value: check-config and start both exit 2 naming the field', async () => {
    const file = join(dir, 'unset-command.yaml');
    await writeFile(
      file,
      'sources:\n  - kind: command\n    command: [/bin/true]\n    env: { TOKEN: { env: SECRETS_TEST_UNSET }, KEY: { file: no-such-key } }\n    metrics: [{ name: a }]\n',
    );
    const { check } = await bothReject(
      file,
      new RegExp(`${escapeRegExp(file)}:4:\\d+: sources\\[0\\]\\.env\\.TOKEN\\.env: environment variable SECRETS_TEST_UNSET is not set`),
    );
    assert.match(
      check.stderr,
      new RegExp(`sources\\[0\\]\\.env\\.KEY\\.file: cannot read ${escapeRegExp(join(dir, 'no-such-key'))}: ENOENT`),
    );
  });

  test('a url secret that is not an http(s) URL is refused at load, without showing it', async () => {
    const file = join(dir, 'not-a-url.yaml');
    await writeFile(file, 'sources:\n  - kind: http\n    url: { env: SECRETS_TEST_NOT_A_URL }\n    metrics: [{ name: a, path: $.a }]\n');
    const { check, start } = await bothReject(
      file,
      /sources\[0\]\.url\.env: environment variable SECRETS_TEST_NOT_A_URL does not hold an http:\/\/ or https:\/\/ URL/,
      { SECRETS_TEST_NOT_A_URL: 'ftp://user:hunter2-not-a-url@example.com/' },
    );
    assert.doesNotMatch(check.stderr + start.stderr, /hunter2-not-a-url/);
  });

  test('the secrets appear in no log line (debug), landing page, /metrics or check-config output; a planted marker does', async (t) => {
    // Random, so that no other text shares a run of their characters; two are long enough to be quoted cut short
    // (a value in an error is quoted up to 80 characters, a program's stderr by its last 200).
    const token = (bytes: number) => randomBytes(bytes).toString('hex');
    const secrets = {
      urlPassword: token(12),
      urlQuery: token(12),
      header: token(50),
      body: token(12),
      commandEnv: token(75),
      inlinePassword: token(12),
      redirectPassword: token(12),
      unreachableQuery: token(12),
    };
    // Not secret, planted where each channel would show a secret if it leaked one (positive controls).
    const marker = { query: 'plain-query-marker-3c9a', source: 'marker-source-6e2b' };
    const target = await startTarget(({ url, headers, body }) => {
      const path = new URL(url, 'http://x').pathname;
      // Echoed back, so a mapping error would quote the secret: the value is a string, not a number.
      if (path === '/echo-header') return { status: 200, json: { v: headers['x-api-key'] } };
      if (path === '/echo-body') return { status: 200, json: { v: body } };
      if (path === '/redirect') return { status: 302, location: `http://someone:${secrets.redirectPassword}@127.0.0.1:1/gone` };
      return { status: 500 };
    });
    t.after(() => target.close());
    const headerFile = join(dir, 'leak-header');
    await writeFile(headerFile, secrets.header);
    const commandFile = join(dir, 'leak-command');
    await writeFile(commandFile, secrets.commandEnv);
    const telling = await shellScript(dir, 'telling.sh', `echo "the token is $TOKEN ${'z'.repeat(120)}" >&2\nexit 1`);
    const config = join(dir, 'leak.yaml');
    const authority = target.url.replace('http://', '');
    await writeFile(
      config,
      [
        'sources:',
        '  - { kind: http, name: secret-url, url: { env: LEAK_URL }, metrics: [{ name: a, path: $.a }] }',
        '  - { kind: http, name: secret-header, url: { env: LEAK_ECHO_URL }, headers: { x-api-key: { file: leak-header } }, metrics: [{ name: b, path: $.v }] }',
        '  - { kind: http, name: secret-body, url: { env: LEAK_BODY_URL }, method: POST, body: { env: LEAK_BODY }, metrics: [{ name: c, path: $.v }] }',
        `  - { kind: command, name: secret-env, command: [${telling}], env: { TOKEN: { file: leak-command } }, metrics: [{ name: d }] }`,
        `  - { kind: http, name: inline-userinfo, url: 'http://someone:${secrets.inlinePassword}@${authority}/fail?plain=${marker.query}', metrics: [{ name: e, path: $.a }] }`,
        `  - { kind: http, name: redirected, url: '${target.url}/redirect', metrics: [{ name: f, path: $.a }] }`,
        `  - { kind: http, name: ${marker.source}, url: '${target.url}/fail', metrics: [{ name: g, path: $.a }] }`,
        // Nothing listens on port 1: the connection error names the URL.
        '  - { kind: http, name: unreachable, url: { env: LEAK_UNREACHABLE_URL }, metrics: [{ name: h, path: $.a }] }',
      ].join('\n'),
    );
    const env = {
      LEAK_URL: `http://someone:${secrets.urlPassword}@${authority}/fail?token=${secrets.urlQuery}`,
      LEAK_ECHO_URL: `${target.url}/echo-header`,
      LEAK_BODY_URL: `${target.url}/echo-body`,
      LEAK_BODY: secrets.body,
      LEAK_UNREACHABLE_URL: `http://127.0.0.1:1/?token=${secrets.unreachableQuery}`,
    };
    const check = await runCli(['check-config', config], { env });
    assert.equal(check.code, 0, check.stderr);
    const cli = await serveCli([`--config.file=${config}`, '--log.level=debug'], { env });
    let logs: string;
    let landing: string;
    let metrics: string;
    try {
      metrics = (await scrape(cli.url)).body;
      // Scraped again so that the debug-level repeat of each failure is logged too.
      await scrape(cli.url);
      await eventually(() =>
        assert.equal(cli.logs().filter((l) => l.msg === 'source collection failed' && l.level === 'debug').length, 8, cli.stderr()),
      );
      landing = await (await fetch(`${cli.url}/`)).text();
      logs = cli.stderr();
    } finally {
      await cli.kill();
    }

    // The secrets were sent: the test is about what is shown, not about secrets that were never used.
    const sent = target.seen.map((r) => `${r.url} ${r.headers.authorization ?? ''} ${r.headers['x-api-key'] ?? ''} ${r.body}`).join('\n');
    for (const used of [secrets.urlQuery, secrets.header, secrets.body]) assert.ok(sent.includes(used), `${used} was sent`);

    const channels = { logs, landing, metrics, 'check-config': check.stdout + check.stderr };
    const leaks = Object.entries(channels).flatMap(([channel, text]) =>
      Object.entries(secrets)
        .filter(([, value]) => pieces(value).some((piece) => text.includes(piece)))
        .map(([name]) => `${channel} shows the ${name} secret`),
    );
    assert.deepEqual(leaks, [], logs);
    for (const channel of ['logs', 'landing'] as const)
      assert.ok(channels[channel].includes(marker.query), `${channel} shows the planted query`);
    for (const channel of ['logs', 'landing', 'metrics', 'check-config'] as const)
      assert.ok(channels[channel].includes(marker.source), `${channel} shows the planted source name`);

    // What is shown instead: the URL without its userinfo, and without the query that came from a secret.
    assert.ok(logs.includes(`http://<redacted>@${authority}/fail?<redacted> answered 500`), logs);
    assert.ok(logs.includes(`http://<redacted>@${authority}/fail?plain=${marker.query} answered 500`), logs);
    assert.ok(logs.includes(`<redacted> ${'z'.repeat(120)}`), logs);
    assert.ok(logs.includes('http://127.0.0.1:1/?<redacted>: connect ECONNREFUSED'), logs);
  });
});
