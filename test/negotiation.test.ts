import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { ValueType } from '@opentelemetry/api';
import { emptyResource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  type CollectionResult,
  DataPointType,
  MeterProvider,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import { pino } from 'pino';
import { contentType } from '../src/exposition/content-type.ts';
import type { Escaping, ExpositionFormat, ScrapeProtocol } from '../src/exposition/format.ts';
import { negotiate } from '../src/exposition/negotiate.ts';
import { WRITABLE_PROTOCOLS } from '../src/exposition/writers.ts';
import { PrometheusPull } from '../src/telemetry/prometheus-pull.ts';
import { type ServingCli, serveCli } from './support/cli.ts';

/** What the exporter answers: the format negotiated and the exact Content-Type of the answer. */
type Answer = readonly [ScrapeProtocol, Escaping, string];

const TEXT_0_0_4: Answer = ['PrometheusText0.0.4', 'underscores', 'text/plain; version=0.0.4; charset=utf-8'];
const OPENMETRICS_0_0_1: Answer = ['OpenMetricsText0.0.1', 'underscores', 'application/openmetrics-text; version=0.0.1; charset=utf-8'];
const openMetrics1 = (escaping: Escaping): Answer => [
  'OpenMetricsText1.0.0',
  escaping,
  `application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=${escaping}`,
];
const text1 = (escaping: Escaping): Answer => [
  'PrometheusText1.0.0',
  escaping,
  `text/plain; version=1.0.0; charset=utf-8; escaping=${escaping}`,
];
const PROTO: Answer = [
  'PrometheusProto',
  'underscores',
  'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=underscores',
];

/**
 * The Accept headers scrapers send and what the exporter answers, best first: the expected answer is the first whose
 * protocol has a writer in this build, so a row names every format it would prefer, down to text 0.0.4. Rows are
 * copied from Prometheus' source: 2.42 (Debian's) scrape.go `scrapeAcceptHeader` / `scrapeAcceptHeaderWithProtobuf`;
 * 3.x config.go `ScrapeProtocolsHeaders` put together by scrape.go `acceptHeader` (weights from 0.6 down, the any-type range last,
 * `escaping=` only on the 1.0.0 text formats, allow-utf-8 by default or as `metric_name_escaping_scheme` says).
 */
const ROWS: readonly { readonly scraper: string; readonly accept: string | undefined; readonly answers: readonly Answer[] }[] = [
  { scraper: 'no Accept header (curl, wget)', accept: undefined, answers: [TEXT_0_0_4] },
  { scraper: 'anything', accept: '*/*', answers: [TEXT_0_0_4] },
  {
    scraper: 'a browser',
    accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8',
    answers: [TEXT_0_0_4],
  },
  {
    scraper: 'Prometheus 2.42',
    accept:
      'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
    answers: [openMetrics1('underscores'), OPENMETRICS_0_0_1, TEXT_0_0_4],
  },
  {
    scraper: 'Prometheus 2.42 --enable-feature=native-histograms',
    accept:
      'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
    answers: [PROTO, openMetrics1('underscores'), OPENMETRICS_0_0_1, TEXT_0_0_4],
  },
  {
    scraper: 'Prometheus 3.x default',
    accept:
      'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2',
    answers: [openMetrics1('allow-utf-8'), OPENMETRICS_0_0_1, text1('allow-utf-8'), TEXT_0_0_4],
  },
  {
    scraper: 'Prometheus 3.x scrape_native_histograms (protobuf first)',
    accept:
      'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1',
    answers: [PROTO, openMetrics1('allow-utf-8'), OPENMETRICS_0_0_1, text1('allow-utf-8'), TEXT_0_0_4],
  },
  {
    scraper: 'Prometheus 3.x scrape_protocols: [PrometheusProto]',
    accept: 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,*/*;q=0.5',
    answers: [PROTO, TEXT_0_0_4],
  },
  {
    scraper: 'Prometheus 3.x scrape_protocols: [OpenMetricsText1.0.0]',
    accept: 'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,*/*;q=0.5',
    answers: [openMetrics1('allow-utf-8'), TEXT_0_0_4],
  },
  {
    scraper: 'Prometheus 3.x scrape_protocols: [OpenMetricsText0.0.1]',
    accept: 'application/openmetrics-text;version=0.0.1;q=0.6,*/*;q=0.5',
    answers: [OPENMETRICS_0_0_1, TEXT_0_0_4],
  },
  {
    scraper: 'Prometheus 3.x scrape_protocols: [PrometheusText1.0.0]',
    accept: 'text/plain;version=1.0.0;escaping=allow-utf-8;q=0.6,*/*;q=0.5',
    answers: [text1('allow-utf-8'), TEXT_0_0_4],
  },
  {
    scraper: 'Prometheus 3.x scrape_protocols: [PrometheusText0.0.4]',
    accept: 'text/plain;version=0.0.4;q=0.6,*/*;q=0.5',
    answers: [TEXT_0_0_4],
  },
  {
    scraper: 'Prometheus 3.x scrape_protocols: [PrometheusText1.0.0, OpenMetricsText1.0.0], metric_name_escaping_scheme: dots',
    accept: 'text/plain;version=1.0.0;escaping=dots;q=0.6,application/openmetrics-text;version=1.0.0;escaping=dots;q=0.5,*/*;q=0.4',
    answers: [text1('dots'), openMetrics1('dots'), TEXT_0_0_4],
  },
  {
    scraper: 'Prometheus 3.x default, metric_name_escaping_scheme: values',
    accept:
      'application/openmetrics-text;version=1.0.0;escaping=values;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=values;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2',
    answers: [openMetrics1('values'), OPENMETRICS_0_0_1, text1('values'), TEXT_0_0_4],
  },
  {
    scraper: 'Prometheus 3.x default, metric_name_validation_scheme: legacy (escaping underscores)',
    accept:
      'application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=underscores;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2',
    answers: [openMetrics1('underscores'), OPENMETRICS_0_0_1, text1('underscores'), TEXT_0_0_4],
  },
  {
    scraper: "Prometheus' content-negotiation page, with its old `allow-utf8` spelling (prometheus/docs#2747)",
    accept:
      'application/openmetrics-text;version=1.0.0;escaping=allow-utf8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1',
    answers: [openMetrics1('allow-utf-8'), OPENMETRICS_0_0_1, text1('allow-utf-8'), TEXT_0_0_4],
  },
  {
    scraper: 'OpenMetrics without version (0.0.1, as expfmt reads it)',
    accept: 'application/openmetrics-text',
    answers: [OPENMETRICS_0_0_1, TEXT_0_0_4],
  },
  { scraper: 'text/plain without version', accept: 'text/plain', answers: [TEXT_0_0_4] },
  {
    scraper: 'an unknown escaping (ignored)',
    accept: 'text/plain;version=1.0.0;escaping=rot13',
    answers: [text1('underscores'), TEXT_0_0_4],
  },
  {
    scraper: 'a version nobody writes',
    accept: 'application/openmetrics-text;version=2.0.0,text/plain;version=9.9.9',
    answers: [TEXT_0_0_4],
  },
  {
    scraper: 'protobuf as text (not written)',
    accept: 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text',
    answers: [TEXT_0_0_4],
  },
  { scraper: 'another charset', accept: 'application/openmetrics-text;version=1.0.0;charset=iso-8859-1', answers: [TEXT_0_0_4] },
  { scraper: 'nothing acceptable (q=0)', accept: 'application/openmetrics-text;version=1.0.0;q=0', answers: [TEXT_0_0_4] },
  {
    scraper: 'equal weights: the earlier range wins',
    accept: 'text/plain;version=1.0.0, application/openmetrics-text;version=1.0.0',
    answers: [text1('underscores'), openMetrics1('underscores'), TEXT_0_0_4],
  },
];

const MALFORMED = [
  'application/openmetrics-text;version=1.0.0;q=5',
  'application/openmetrics-text;version=1.0.0;q=1e308',
  `application/openmetrics-text;version=1.0.0;q=${'9'.repeat(400)}`,
  'application/openmetrics-text;version',
  'application/openmetrics-text;version=1.0.0 text/plain',
  'application/openmetrics-text;version="1.0.0',
  Array(10_000).fill('application/openmetrics-text;version=1.0.0').join(','),
];

const expected = (answers: readonly Answer[]): Answer => {
  const answer = answers.find(([protocol]) => WRITABLE_PROTOCOLS.has(protocol));
  assert.ok(answer, 'every row ends with an answer this build can give');
  return answer;
};

describe('the negotiation table, as a function', () => {
  test('this build writes text 0.0.4 (the rows expect the best format among those it writes)', () => {
    assert.ok(WRITABLE_PROTOCOLS.has('PrometheusText0.0.4'));
    for (const row of ROWS) assert.deepEqual(row.answers.at(-1), TEXT_0_0_4, `${row.scraper}: the last answer is the fallback`);
  });

  for (const { scraper, accept, answers } of ROWS) {
    test(scraper, () => {
      const [protocol, escaping, type] = expected(answers);
      const format = negotiate(accept);
      assert.deepEqual(format, { protocol, escaping });
      assert.equal(contentType(format), type);
    });
  }

  test('malformed headers fall back to text 0.0.4', () => {
    for (const accept of MALFORMED)
      assert.deepEqual(negotiate(accept), { protocol: 'PrometheusText0.0.4', escaping: 'underscores' }, accept.slice(0, 80));
  });

  test('random bytes fall back to text 0.0.4 or name a format, never throw', () => {
    let seed = 12;
    const random = () => {
      // A small fixed-seed generator (mulberry32): failures are reproducible.
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pieces = [
      'text/plain',
      'application/openmetrics-text',
      ';',
      ',',
      '=',
      'version',
      '1.0.0',
      'q',
      '0.5',
      '"',
      '\\',
      ' ',
      '*/*',
      'escaping',
    ];
    for (let i = 0; i < 2_000; i++) {
      let header = '';
      const length = Math.floor(random() * 40);
      for (let j = 0; j < length; j++) {
        header += random() < 0.5 ? String.fromCharCode(Math.floor(random() * 256)) : pieces[Math.floor(random() * pieces.length)];
      }
      const format = negotiate(header);
      assert.ok(WRITABLE_PROTOCOLS.has(format.protocol), JSON.stringify(header));
    }
  });
});

/** One GET of /metrics, the body as bytes (it may be gzip or protobuf). */
function getMetrics(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/metrics`, { agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.once('error', reject);
    req.end();
  });
}

describe('the negotiation table, through the real exporter', () => {
  let cli: ServingCli;
  before(async () => {
    cli = await serveCli();
  });
  after(() => cli?.kill());

  for (const { scraper, accept, answers } of ROWS) {
    test(scraper, async () => {
      const [protocol, , type] = expected(answers);
      for (const encoding of ['identity', 'gzip']) {
        const headers: Record<string, string> = { 'Accept-Encoding': encoding };
        if (accept !== undefined) headers.Accept = accept;
        const res = await getMetrics(cli.url, headers);
        assert.equal(res.status, 200);
        assert.equal(res.headers['content-type'], type);
        assert.equal(res.headers.vary, 'Accept, Accept-Encoding');
        assert.equal(res.headers['content-encoding'], encoding === 'gzip' ? 'gzip' : undefined);
        const body = encoding === 'gzip' ? gunzipSync(res.body) : res.body;
        if (protocol === 'PrometheusText0.0.4') assert.match(body.toString(), /^# HELP random_number_2_total /m);
      }
    });
  }

  test('malformed headers, as large as the server takes, get 200 and text 0.0.4', async () => {
    // The server refuses header blocks over 8 KiB (request-limits.ts) before negotiation: fill up to about that.
    const huge = Array(150).fill('application/openmetrics-text;version=1.0.0').join(',');
    for (const accept of [...MALFORMED.slice(0, -1), huge, 'garbage\u00ff\u0080']) {
      const res = await getMetrics(cli.url, { Accept: accept });
      assert.equal(res.status, 200, accept.slice(0, 80));
      assert.equal(res.headers['content-type'], TEXT_0_0_4[2]);
      assert.match(res.body.toString(), /^# HELP random_number_2_total /m);
    }
  });
});

/** A producer that counts its collections and reports that count as a gauge. */
class CountingProducer implements MetricProducer {
  calls = 0;

  async collect(): Promise<CollectionResult> {
    const n = ++this.calls;
    const metric = {
      descriptor: { name: 'collection_number', description: 'which collection', unit: '', valueType: ValueType.INT },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.GAUGE as const,
      dataPoints: [{ startTime: [0, 0] as [number, number], endTime: [0, 0] as [number, number], attributes: {}, value: n }],
    };
    return {
      errors: [],
      resourceMetrics: { resource: emptyResource(), scopeMetrics: [{ scope: { name: 'counting' }, metrics: [metric] }] },
    };
  }
}

test('concurrent scrapes in different formats share one collection, each format gets its own body and one gzip', async () => {
  const producer = new CountingProducer();
  const pull = new PrometheusPull([producer], pino({ level: 'silent' }), { scopeLabels: false, targetInfo: false });
  const provider = new MeterProvider({ readers: [pull.reader] });
  try {
    const text: ExpositionFormat = { protocol: 'PrometheusText0.0.4', escaping: 'underscores' };
    // Another format this build writes; with text 0.0.4 alone, the same protocol under another escaping is still
    // another format to the pull side (its own body), which is what is checked here.
    const otherProtocol = [...WRITABLE_PROTOCOLS].find((p) => p !== text.protocol);
    const other: ExpositionFormat = otherProtocol ? negotiateFor(otherProtocol) : { protocol: 'PrometheusText0.0.4', escaping: 'dots' };
    const [a, b, a2, b2] = await Promise.all([
      pull.scrape(5_000, text),
      pull.scrape(5_000, other),
      pull.scrape(5_000, text),
      pull.scrape(5_000, other),
    ]);
    assert.equal(producer.calls, 1, 'one collection for four scrapes in two formats');
    assert.equal(a, a2, 'one body per format');
    assert.equal(b, b2, 'one body per format');
    assert.notEqual(a, b);
    assert.deepEqual(a.format, text);
    assert.deepEqual(b.format, other);
    assert.match(a.body.toString(), /^collection_number 1$/m);
    for (const [first, second] of [
      [a, a2],
      [b, b2],
    ] as const) {
      const gzipped = await first.gzip();
      assert.equal(await second.gzip(), gzipped, 'compressed once');
      assert.deepEqual(gunzipSync(gzipped), first.body);
    }
    const next = await pull.scrape(5_000, other);
    assert.equal(producer.calls, 2, 'a later scrape collects again');
    assert.notEqual(next, b);
  } finally {
    await provider.shutdown();
  }
});

/** The format negotiation gives a scraper asking for exactly this protocol. */
function negotiateFor(protocol: ScrapeProtocol): ExpositionFormat {
  const row = ROWS.find((r) => r.answers[0]?.[0] === protocol);
  assert.ok(row, `a row asks for ${protocol} first`);
  return negotiate(row.accept);
}
