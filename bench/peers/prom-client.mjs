// prom-client 15 on node:http: the workload's values are set in collect(), prom-client's scrape-time hook,
// as observable callbacks do for the OpenTelemetry peers.
import { createServer } from 'node:http';
import { gzip } from 'node:zlib';
import { Counter, Gauge, Registry } from 'prom-client';
import { announce, COUNTER, COUNTER_HELP, GAUGE, GAUGE_HELP, labels, seriesArg } from '../workload.mjs';

const series = seriesArg();
const registry = new Registry();
new Gauge({
  name: GAUGE,
  help: GAUGE_HELP,
  labelNames: ['a', 'b', 'c'],
  registers: [registry],
  collect() {
    for (let i = 0; i < series; i++) this.set(labels(i), i);
  },
});
// A counter mirroring a total read elsewhere: reset, then raised to the current value on each scrape.
new Counter({
  name: `${COUNTER}_total`, // prom-client does not add the suffix itself
  help: COUNTER_HELP,
  labelNames: ['a', 'b', 'c'],
  registers: [registry],
  collect() {
    this.reset();
    for (let i = 0; i < series; i++) this.inc(labels(i), i);
  },
});

const server = createServer((req, res) => {
  registry.metrics().then(
    (body) => {
      res.setHeader('Content-Type', registry.contentType);
      if (/\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
        gzip(body, (err, zipped) => {
          if (err) {
            res.statusCode = 500;
            res.end(String(err));
            return;
          }
          res.setHeader('Content-Encoding', 'gzip');
          res.end(zipped);
        });
      } else {
        res.end(body);
      }
    },
    (err) => {
      res.statusCode = 500;
      res.end(String(err));
    },
  );
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => announce(server.address().port));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
