// The workload as a custom-exporter source, written as a user would: a module (`kind: module` in the config)
// whose default export defines two observable instruments through the public source API.
import { z } from 'zod';
import { defineSource } from '../dist/index.js';
import { COUNTER, COUNTER_HELP, GAUGE, GAUGE_HELP, labels } from './workload.mjs';

export default defineSource({
  kind: 'bench_workload',
  description: 'Issue 6 benchmark: a gauge and a counter family of `series` series each',
  options: z.strictObject({ series: z.int().positive() }),
  setup({ meter, options }) {
    const gauge = meter.createObservableGauge(GAUGE, { description: GAUGE_HELP });
    const counter = meter.createObservableCounter(COUNTER, { description: COUNTER_HELP });
    gauge.addCallback((result) => {
      for (let i = 0; i < options.series; i++) result.observe(i, labels(i));
    });
    counter.addCallback((result) => {
      for (let i = 0; i < options.series; i++) result.observe(i, labels(i));
    });
  },
});
