import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ValueType } from '@opentelemetry/api';
import { z } from 'zod';
import { defineSource } from './source.ts';

const TICK_MS = 1000;

/** The original prometheus_client example, kept as the built-in default so a bare `npm start` shows something. */
export const demoSource = defineSource({
  kind: 'demo',
  description: 'Demo metrics: a random gauge, a random counter and a timing histogram',
  options: z.strictObject({}),
  setup({ meter, signal }) {
    let current = randomInt(1, 21);
    let total = 0;
    const timer = setInterval(() => {
      current = randomInt(1, 21);
      total += randomInt(1, 31);
    }, TICK_MS);
    timer.unref();
    signal.addEventListener('abort', () => clearInterval(timer), { once: true });

    const gauge = meter.createObservableGauge('random_number', {
      description: 'A random number',
      valueType: ValueType.INT,
    });
    // An observable counter reports the running total, so an extra collection never changes the count.
    const counter = meter.createObservableCounter('random_number_2', {
      description: 'A random number 2.0',
      valueType: ValueType.INT,
    });
    const processing = meter.createHistogram('request_processing_seconds', {
      description: 'Time spent processing request',
      unit: 's',
      advice: { explicitBucketBoundaries: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] },
    });

    // Each collection (a scrape or a push) is a request this source serves; time it as the original timed its handler.
    meter.addBatchObservableCallback(
      (result) => {
        const started = performance.now();
        result.observe(gauge, current);
        result.observe(counter, total);
        processing.record((performance.now() - started) / 1000);
      },
      [gauge, counter],
    );
  },
});
