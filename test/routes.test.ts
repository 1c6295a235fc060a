import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RESERVED_PATHS } from '../src/http/routes.ts';
import { runCli } from './support/cli.ts';
import { startTestExporter } from './support/exporter.ts';

test('every reserved path is one the exporter serves', async () => {
  assert.deepEqual([...RESERVED_PATHS].sort(), ['/', '/-/reload', '/healthz', '/probe', '/readyz']);
  const exporter = await startTestExporter('sources: [{ kind: demo }]');
  try {
    for (const path of RESERVED_PATHS) {
      const get = await fetch(`${exporter.url}${path}`);
      // /-/reload is POST only (405 to GET, 403 without --web.enable-lifecycle); the others answer GET.
      if (path === '/-/reload') {
        assert.equal(get.status, 405, path);
        assert.equal((await fetch(`${exporter.url}${path}`, { method: 'POST' })).status, 403, path);
      } else if (path === '/probe') {
        assert.equal(get.status, 400, path); // no ?module= and ?target=
      } else {
        assert.equal(get.status, 200, path);
      }
    }
  } finally {
    await exporter.stop();
  }
});

test('--web.telemetry-path cannot take a reserved path: usage error, exit 2, naming the path', async () => {
  for (const path of RESERVED_PATHS) {
    const run = await runCli([`--web.telemetry-path=${path}`]);
    assert.equal(run.code, 2, path);
    assert.match(
      run.stderr,
      new RegExp(`"${path.replace(/[/-]/g, '\\$&')}" must start with / and not be one of the exporter's other paths`),
    );
  }
});
