import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { requireTool } from './support/tools.ts';

// No collector binary can be installed here: check the structure the collector would check at startup.
const OTEL_DIR = new URL('../otel/', import.meta.url).pathname;
const SECTIONS = ['receivers', 'processors', 'exporters'] as const;
// Component types of the otelcol-contrib distribution that these files may use.
const KNOWN = {
  receivers: ['otlp', 'prometheus'],
  processors: ['batch', 'memory_limiter', 'resource', 'attributes', 'filter'],
  exporters: ['otlp', 'otlphttp', 'prometheusremotewrite', 'prometheus', 'debug'],
};

interface CollectorConfig {
  receivers?: Record<string, Record<string, unknown> | null>;
  processors?: Record<string, unknown>;
  exporters?: Record<string, unknown>;
  service?: { pipelines?: Record<string, Partial<Record<(typeof SECTIONS)[number], string[]>>> };
}

const files = readdirSync(OTEL_DIR).filter((f) => f.endsWith('.yaml'));

test('otel/ has the push and the pull configuration', () => {
  assert.deepEqual(files.sort(), ['collector-otlp-push.yaml', 'collector-prometheus-pull.yaml']);
});

for (const file of files) {
  describe(`otel/${file}`, () => {
    const config = parse(readFileSync(join(OTEL_DIR, file), 'utf8')) as CollectorConfig;

    test('every component is of a known type, and every one a pipeline names is defined', () => {
      const pipelines = Object.entries(config.service?.pipelines ?? {});
      assert.ok(pipelines.length > 0, 'has pipelines');
      for (const section of SECTIONS) {
        for (const id of Object.keys(config[section] ?? {})) {
          assert.ok(KNOWN[section].includes(id.split('/')[0]!), `${section}.${id} is a known component type`);
        }
      }
      for (const [name, pipeline] of pipelines) {
        assert.match(name, /^metrics(\/.+)?$/, 'only metrics pipelines');
        assert.ok((pipeline.receivers ?? []).length > 0 && (pipeline.exporters ?? []).length > 0, `${name} has receivers and exporters`);
        for (const section of SECTIONS) {
          for (const id of pipeline[section] ?? []) {
            assert.ok(config[section] && id in config[section], `pipeline ${name} names ${section}.${id}, which is defined`);
          }
        }
      }
      for (const section of SECTIONS) {
        const used = new Set(pipelines.flatMap(([, p]) => p[section] ?? []));
        for (const id of Object.keys(config[section] ?? {})) assert.ok(used.has(id), `${section}.${id} is used by a pipeline`);
      }
    });

    test('memory_limiter comes first among processors, batch last', () => {
      for (const [, pipeline] of Object.entries(config.service?.pipelines ?? {})) {
        const processors = pipeline.processors ?? [];
        assert.equal(processors[0], 'memory_limiter');
        assert.equal(processors.at(-1), 'batch');
      }
    });

    if (config.receivers?.prometheus) {
      test("the prometheus receiver's scrape config is valid for promtool", async (t) => {
        const promtool = requireTool(t, 'promtool', 'apt-get install prometheus');
        if (!promtool) return;
        const dir = await mkdtemp(join(tmpdir(), 'otel-scrape-'));
        const scrapeFile = join(dir, 'prometheus.yml');
        await writeFile(scrapeFile, stringify(config.receivers!.prometheus!.config));
        const check = spawnSync(promtool, ['check', 'config', scrapeFile], { encoding: 'utf8' });
        assert.equal(check.status, 0, check.stdout + check.stderr);
        const [job] = (config.receivers!.prometheus!.config as { scrape_configs: { static_configs: { targets: string[] }[] }[] })
          .scrape_configs;
        assert.deepEqual(job!.static_configs[0]!.targets, ['custom-exporter:9000'], 'aims at the chart Service and port');
      });
    }

    if (config.receivers?.otlp) {
      test('the OTLP receiver listens on the standard ports', () => {
        const protocols = (config.receivers!.otlp as { protocols: Record<string, { endpoint: string }> }).protocols;
        assert.equal(protocols.grpc?.endpoint, '0.0.0.0:4317');
        assert.equal(protocols.http?.endpoint, '0.0.0.0:4318');
      });
    }
  });
}
