// custom-exporter as a user runs it: the built CLI (dist/main.js) with a config file naming the workload module.
// Prints the port it listens on (from its `listening` log line) the way the other peers do, then stays out of
// the way: the exporter is this process's only child, and SIGTERM is passed on to it.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { announce, seriesArg } from '../workload.mjs';

const series = seriesArg();
const dir = mkdtempSync(join(tmpdir(), 'custom-exporter-bench-'));
const config = join(dir, 'bench.yaml');
writeFileSync(
  config,
  `global:
  seriesLimit: ${series}
  scrapeTimeout: 60s
  sourceTimeout: 60s
sources:
  - kind: module
    name: bench
    module: ${new URL('../workload-source.mjs', import.meta.url).pathname}
    options: { series: ${series} }
`,
);
const main = new URL('../../dist/main.js', import.meta.url).pathname;
// The flags the image, npm start and the bin run it with (test/runtime-flags.test.ts keeps them in step).
const NODE_FLAGS = ['--max-semi-space-size=8'];
const RUNTIME_ENV = { MALLOC_ARENA_MAX: '2' };
const child = spawn(
  process.execPath,
  [
    ...process.execArgv,
    ...NODE_FLAGS,
    main,
    `--config.file=${config}`,
    '--web.listen-address=127.0.0.1:0',
    '--log.format=json',
    '--log.level=info',
  ],
  {
    stdio: ['ignore', 'inherit', 'pipe'],
    env: { ...process.env, ...RUNTIME_ENV },
  },
);
const lines = createInterface({ input: child.stderr });
lines.on('line', (line) => {
  let record;
  try {
    record = JSON.parse(line);
  } catch {
    process.stderr.write(`${line}\n`);
    return;
  }
  if (record.msg === 'listening') announce(Number(String(record.address).split(':').pop()), child.pid);
  else if (record.level !== 'info') process.stderr.write(`${line}\n`);
});
child.once('exit', (code) => {
  rmSync(dir, { recursive: true, force: true });
  process.exit(code ?? 1);
});
process.on('SIGTERM', () => child.kill('SIGTERM'));
