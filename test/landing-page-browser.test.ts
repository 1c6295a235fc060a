import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from './support/chromium.ts';
import { startTestExporter } from './support/exporter.ts';
import { scrape } from './support/scrape.ts';
import { requireTool } from './support/tools.ts';

test('the landing page renders in a real browser with its links and source states', { timeout: 120_000 }, async (t) => {
  const binary = requireTool(t, 'chromium', 'apt-get install chromium');
  if (!binary) return;
  const exporter = await startTestExporter('sources: [{ kind: demo }, { kind: throw, name: flaky }]');
  try {
    await scrape(exporter.url);
    // The DOM as the browser built it: a parse problem in our HTML would show here.
    const dom = await chromium(binary, ['--dump-dom', `${exporter.url}/`]);
    assert.match(dom, /<title>custom-exporter<\/title>/);
    assert.match(dom, /<a href="metrics">Metrics<\/a>/);
    assert.match(dom, /<td>demo<\/td><td>demo<\/td><td class="up">up<\/td>/);
    assert.match(dom, /<td class="down">down<br><small>backend unreachable<\/small><\/td>/);

    const dir = await mkdtemp(join(tmpdir(), 'landing-'));
    const png = join(dir, 'landing.png');
    await chromium(binary, ['--window-size=1024,600', `--screenshot=${png}`, `${exporter.url}/`]);
    const image = await readFile(png);
    assert.equal(image.subarray(1, 4).toString(), 'PNG');
    assert.ok(image.length > 5000, `screenshot is ${image.length} bytes`);
    if (process.env.KEEP_SCREENSHOTS) process.stdout.write(`# screenshot: ${png}\n`);
  } finally {
    await exporter.stop();
  }
});
