// `npm run test:quick`: every test file except those listed in SLOW, which need a Prometheus server, a database
// server, helm, Chromium or the container image, or fuzz for minutes. `npm test` runs them all. A new test file is quick unless added here.
import { glob } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';

const SLOW = [
  'test/chart/**', // helm
  'test/image/**', // the container image
  'test/prometheus-e2e.test.ts', // a Prometheus server
  'test/prometheus-tls-e2e.test.ts', // a Prometheus server
  'test/protobuf-prometheus-e2e.test.ts', // a Prometheus server
  'test/openmetrics-e2e.test.ts', // a Prometheus server
  'test/probe-prometheus-e2e.test.ts', // a Prometheus server
  'test/sql-*.test.ts', // PostgreSQL or MariaDB servers
  'test/sql/**', // PostgreSQL or MariaDB servers
  'test/probe-status.test.ts', // Chromium
  'test/probe-memory.test.ts', // heap snapshots of the exporter
  'test/landing-page-browser.test.ts', // Chromium
  'test/fuzz-http.test.ts', // 20,000 hostile requests
];

const files: string[] = [];
for await (const file of glob('test/**/*.test.ts', { exclude: SLOW })) files.push(file);
const tests = run({ files: files.sort(), concurrency: availableParallelism() });
tests.on('test:fail', () => {
  process.exitCode = 1;
});
tests.compose(spec).pipe(process.stdout);
