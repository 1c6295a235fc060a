// serviceMonitor.scrapeProtocols / fallbackScrapeProtocol: off by default, rendered into the ServiceMonitor's spec
// as the Prometheus Operator's CRD has them, limited to the protocol names Prometheus (and the exporter) know.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MEDIA_TYPES } from '../../src/exposition/content-type.ts';
import { helm, only, render, templateArgs } from '../support/helm.ts';
import { validateStrictly } from './schema-check.ts';
import { valuesSchema } from './values-keys.ts';

const ALL = ['PrometheusProto', 'OpenMetricsText1.0.0', 'OpenMetricsText0.0.1', 'PrometheusText1.0.0', 'PrometheusText0.0.4'];

const spec = (manifest: Record<string, unknown>) => manifest.spec as Record<string, unknown>;

test('by default the ServiceMonitor leaves the scrape protocols to Prometheus', async () => {
  const monitor = only(await render(), 'ServiceMonitor');
  assert.equal(spec(monitor).scrapeProtocols, undefined);
  assert.equal(spec(monitor).fallbackScrapeProtocol, undefined);
});

test('the values schema lists exactly the protocols the exporter knows', () => {
  const definition = (valuesSchema as { definitions: Record<string, { enum: string[] }> }).definitions.scrapeProtocol;
  assert.deepEqual(definition?.enum.toSorted(), Object.keys(MEDIA_TYPES).toSorted());
  assert.deepEqual(ALL.toSorted(), Object.keys(MEDIA_TYPES).toSorted());
});

test('every protocol, in the order given, reaches the ServiceMonitor, and the CRD model accepts it', async () => {
  const set = [
    ...ALL.map((p, i) => `serviceMonitor.scrapeProtocols[${i}]=${p}`),
    'serviceMonitor.fallbackScrapeProtocol=PrometheusText0.0.4',
  ];
  const monitor = only(await render({ set }), 'ServiceMonitor');
  assert.deepEqual(spec(monitor).scrapeProtocols, ALL);
  assert.equal(spec(monitor).fallbackScrapeProtocol, 'PrometheusText0.0.4');
  validateStrictly(monitor);
});

test('the CRD model checks the names (positive control: it rejects an unknown one and a misplaced field)', async () => {
  const monitor = only(await render({ set: ['serviceMonitor.scrapeProtocols[0]=OpenMetricsText1.0.0'] }), 'ServiceMonitor');
  validateStrictly(monitor);
  const misspelled = structuredClone(monitor);
  (spec(misspelled).scrapeProtocols as string[])[0] = 'OpenMetricsText2.0.0';
  assert.throws(() => validateStrictly(misspelled), /scrapeProtocols/);
  const misplaced = structuredClone(monitor);
  spec(misplaced).scrapeProtocol = 'PrometheusProto';
  assert.throws(() => validateStrictly(misplaced), /fields unknown to the ServiceMonitor schema: \/spec\/scrapeProtocol$/);
});

test('an unknown protocol, a repeated one or a bad fallback fails the render with the schema message', async () => {
  const fails = async (set: string[], message: RegExp) => {
    const result = await helm([...templateArgs(), ...set.flatMap((s) => ['--set', s])]);
    assert.notEqual(result.code, 0, set.join(' '));
    assert.match(result.stderr, message);
  };
  await fails(
    ['serviceMonitor.scrapeProtocols[0]=OpenMetrics'],
    /at '\/serviceMonitor\/scrapeProtocols\/0': value must be one of 'PrometheusProto'/,
  );
  await fails(
    ['serviceMonitor.scrapeProtocols[0]=PrometheusProto', 'serviceMonitor.scrapeProtocols[1]=PrometheusProto'],
    /at '\/serviceMonitor\/scrapeProtocols': items at 0 and 1 are equal/,
  );
  await fails(['serviceMonitor.fallbackScrapeProtocol=text'], /at '\/serviceMonitor\/fallbackScrapeProtocol'/);
});
