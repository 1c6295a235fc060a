import { z } from 'zod';
import { defineSource } from '../../src/index.ts';

/**
 * Never settles by itself; rejects once the collection ends or the source stops, as a well-behaved source cancels its
 * work. (A pending collection keeps its timeout timer, which would keep the test process alive for that long.)
 */
function hangUntilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
}

/** A source whose callback never finishes before its collection ends. */
export const hangingSource = defineSource({
  kind: 'hang',
  description: 'never answers',
  options: z.strictObject({}),
  setup({ meter, collectionSignal }) {
    meter.createObservableGauge('hanging_value').addCallback(() => hangUntilAborted(collectionSignal()));
  },
});

/** A source whose callback throws. */
export const throwingSource = defineSource({
  kind: 'throw',
  description: 'always fails',
  options: z.strictObject({}),
  setup({ meter }) {
    meter.createObservableGauge('throwing_value').addCallback(() => {
      throw new Error('backend unreachable');
    });
  },
});

/** A source with one gauge of `series` series, labelled like the benchmark workload. */
export const manySeriesSource = defineSource({
  kind: 'many',
  description: 'one gauge with many series',
  options: z.strictObject({ series: z.int().positive() }),
  setup({ meter, options }) {
    meter.createObservableGauge('many_series_value').addCallback((result) => {
      for (let i = 0; i < options.series; i++) result.observe(i, { a: `a${i % 100}`, b: `b${i % 10}`, c: `c${i}` });
    });
  },
});

/** A source that fails to start. */
export const brokenSetupSource = defineSource({
  kind: 'broken',
  description: 'setup throws',
  options: z.strictObject({}),
  setup() {
    throw new Error('missing credentials');
  },
});

/**
 * Counts how often its callback runs (`calls_seen`); fails the first `failFirst` calls; each call takes `delayMs`;
 * calls after the first `hangAfter` never finish before their collection ends.
 */
export const countingSource = defineSource({
  kind: 'count',
  description: 'counts its collections',
  options: z.strictObject({
    failFirst: z.int().nonnegative().default(0),
    delayMs: z.int().nonnegative().default(0),
    hangAfter: z.int().positive().optional(),
  }),
  setup({ meter, options, collectionSignal }) {
    let calls = 0;
    meter.createObservableGauge('calls_seen').addCallback(async (result) => {
      calls++;
      if (options.hangAfter !== undefined && calls > options.hangAfter) await hangUntilAborted(collectionSignal());
      await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      if (calls <= options.failFirst) throw new Error(`call ${calls} fails`);
      result.observe(calls);
    });
  },
});

export const testSources = [hangingSource, throwingSource, manySeriesSource, brokenSetupSource, countingSource];
