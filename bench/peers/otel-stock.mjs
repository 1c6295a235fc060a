// The stock OpenTelemetry PrometheusExporter (default options) with observable instruments.
import { createServer } from 'node:http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { announce, COUNTER, COUNTER_HELP, GAUGE, GAUGE_HELP, labels, seriesArg } from '../workload.mjs';

const series = seriesArg();
const exporter = new PrometheusExporter({ preventServerStart: true });
const provider = new MeterProvider({
  readers: [exporter],
  // Without this every instrument stops at 2000 series (the rest fold into one overflow series).
  views: [{ instrumentName: '*', aggregationCardinalityLimit: series + 1 }],
});
const meter = provider.getMeter('bench');
const gauge = meter.createObservableGauge(GAUGE, { description: GAUGE_HELP });
const counter = meter.createObservableCounter(COUNTER, { description: COUNTER_HELP });
gauge.addCallback((result) => {
  for (let i = 0; i < series; i++) result.observe(i, labels(i));
});
counter.addCallback((result) => {
  for (let i = 0; i < series; i++) result.observe(i, labels(i));
});

// `port: 0` counts as unset for the exporter, so its own request handler is served on a free port here.
const server = createServer((req, res) => exporter.getMetricsRequestHandler(req, res));
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => announce(server.address().port));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
