// The hostile world of `npm run soak -- --attack` (issue 11): a web config with basic auth, a file source on a FIFO
// that no one writes, an http source answering a huge JSON document, and two healthy sources the scrapers check.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { toolPath } from '../support/tools.ts';

/** The value both healthy sources report; a scrape is judged by finding it. */
const HEALTHY_VALUE = 42;
/** Elements in the hostile document, each one series (far over the default seriesLimit of 10,000). */
const HOSTILE_ELEMENTS = 1_000_000;
// Just under the http source's 16 MiB answer limit, so the document is read and parsed rather than refused.
const HOSTILE_BYTES = 16 * 1024 * 1024 - 4096;
const USER = 'soak';

export interface AttackSetup {
  /** Command-line flags for dist/main.js. */
  readonly args: readonly string[];
  /** The right credentials, as an Authorization header value. */
  readonly authorization: string;
  /** The right user with a wrong password (a different one per `n`), as an Authorization header value. */
  wrongAuthorization(n: number): string;
  /** What is wrong with a scrape's body (a healthy source not up or without its value); undefined when nothing. */
  healthProblem(body: string): string | undefined;
  /** One line describing the attack, for the report. */
  readonly description: string;
  /** Stops the local servers and removes the temporary directory. */
  close(): Promise<void>;
}

/** The attacks there are; `--attacks` picks some (all by default) to see which one does what. */
export const ATTACKS = ['flood', 'fifo', 'huge'] as const;
export type Attack = (typeof ATTACKS)[number];

/** The exporter's files and the local servers for `attacks` (the flood itself is the soak's: see attackers.ts). */
export async function prepareAttack(attacks: ReadonlySet<Attack>): Promise<AttackSetup> {
  const dir = await mkdtemp(join(tmpdir(), 'custom-exporter-soak-'));
  const fifo = join(dir, 'no-writer.fifo');
  if (attacks.has('fifo')) {
    const mkfifo = toolPath('mkfifo');
    if (mkfifo === undefined) throw new Error('mkfifo not found (it comes with coreutils)');
    const made = spawnSync(mkfifo, [fifo], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`mkfifo ${fifo} failed: ${made.stderr || made.error?.message}`);
  }
  const healthyFile = join(dir, 'healthy.json');
  await writeFile(healthyFile, JSON.stringify({ value: HEALTHY_VALUE }));

  const hostile = attacks.has('huge') ? hostileDocument() : Buffer.alloc(0);
  const healthy = Buffer.from(JSON.stringify({ value: HEALTHY_VALUE }));
  const server = createServer((req, res) => {
    const body = req.url === '/huge' ? hostile : healthy;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // Made at startup (cost 10, as `htpasswd -nBC 10` and the README advise) so no password is stored anywhere.
  const password = randomBytes(12).toString('hex');
  const webConfig = join(dir, 'web.yaml');
  await writeFile(webConfig, `basic_auth_users:\n  ${USER}: '${await bcrypt.hash(password, 10)}'\n`);
  const config = join(dir, 'config.yaml');
  const value = (name: string) => `[{ name: ${name}, path: $.value }]`;
  const sources = [
    `{ name: healthy_file, kind: file, path: '${healthyFile}', metrics: ${value('soak_healthy_file_value')} }`,
    `{ name: healthy_http, kind: http, url: '${origin}/healthy', metrics: ${value('soak_healthy_http_value')} }`,
  ];
  const described: string[] = [];
  if (attacks.has('fifo')) {
    sources.push(`{ name: fifo, kind: file, path: '${fifo}', metrics: [{ name: soak_fifo_value, path: $.value }] }`);
    described.push(`file source on a FIFO without a writer (${fifo})`);
  }
  if (attacks.has('huge')) {
    const item = `{ name: soak_huge_item, each: '$.items[*]', path: '$[1]', labels: { id: '$[0]' } }`;
    sources.push(`{ name: huge, kind: http, url: '${origin}/huge', metrics: [${item}] }`);
    described.push(
      `http source answering ${(hostile.length / 1024 / 1024).toFixed(1)} MiB of JSON with ` +
        `${HOSTILE_ELEMENTS.toLocaleString('en')} elements (each: $.items[*])`,
    );
  }
  await writeFile(config, `sources:\n${sources.map((s) => `  - ${s}\n`).join('')}`);

  return {
    args: [`--config.file=${config}`, `--web.config.file=${webConfig}`],
    authorization: `Basic ${Buffer.from(`${USER}:${password}`).toString('base64')}`,
    wrongAuthorization: (n) => `Basic ${Buffer.from(`${USER}:wrong-${n}`).toString('base64')}`,
    healthProblem(body) {
      for (const source of ['healthy_file', 'healthy_http']) {
        if (!new RegExp(`^custom_exporter_source_up\\{[^}]*source="${source}"[^}]*\\} 1$`, 'm').test(body))
          return `source ${source} not up`;
        if (!new RegExp(`^soak_${source}_value(?:\\{[^}]*\\})? ${HEALTHY_VALUE}$`, 'm').test(body))
          return `soak_${source}_value ${HEALTHY_VALUE} missing`;
      }
      return undefined;
    },
    description: described.join(', ') || 'no hostile source',
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** `{"items":[[0,1],[1,1],…],"padding":"xxx…"}`: a million elements, padded to HOSTILE_BYTES. */
function hostileDocument(): Buffer {
  const items = Array.from({ length: HOSTILE_ELEMENTS }, (_, i) => `[${i},1]`).join(',');
  const head = `{"items":[${items}],"padding":"`;
  const tail = '"}';
  const padding = HOSTILE_BYTES - head.length - tail.length;
  if (padding < 0) throw new Error(`the hostile document's items alone exceed ${HOSTILE_BYTES} bytes`);
  return Buffer.from(head + 'x'.repeat(padding) + tail);
}
