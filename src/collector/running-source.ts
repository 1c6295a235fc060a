import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import type { MetricData } from '@opentelemetry/sdk-metrics';
import type { CollectionPolicy, ResolvedSource } from '../config/resolved.ts';
import type { Logger } from '../logging.ts';
import { settleWithin, TimeoutExceededError } from '../settle-within.ts';
import { FAILURE_REASONS, type FailureReason } from '../sources/collection-error.ts';
import type { ConnectionCheck } from '../sources/source.ts';
import { ObservableRegistry } from './observable-registry.ts';
import { ObservationRound } from './observation-round.ts';
import { sourceMeter } from './source-meter.ts';
import { SynchronousInstruments } from './synchronous-instruments.ts';

export type { FailureReason };

export type SourceOutcome =
  | {
      readonly ok: true;
      readonly round: ObservationRound;
      /** What the source's synchronous instruments held. */
      readonly synchronous: readonly MetricData[];
      readonly seconds: number;
      readonly at: number;
    }
  | {
      readonly ok: false;
      readonly reason: FailureReason;
      readonly message: string;
      readonly seconds: number;
      readonly at: number;
      /** What the callbacks observed before failing, when they finished in time. */
      readonly round?: ObservationRound;
    };

/** A source that failed to start; at startup this is a configuration error. */
export class SourceSetupError extends Error {
  override name = 'SourceSetupError';
}

export interface StartOptions {
  readonly logger: Logger;
  /** Most series one instrument may observe in one collection. */
  readonly seriesLimit: number;
  /** A probe's allowlist, asked before each connection (SourceContext.allowConnection). */
  readonly allowConnection?: ConnectionCheck;
}

/**
 * The collection whose callbacks are running, for context.collectionSignal() and produce(); emptied when it ends.
 * Every async resource created during a collection (a socket, a pool's connection, a timer) keeps this scope in
 * its async context for as long as it lives: a scraper's keep-alive connection kept a whole probe (its source,
 * round and collector, through the abort reason's stack) per connection (heap snapshots, issue 13).
 */
interface CollectionScope {
  signal: AbortSignal | undefined;
  round: ObservationRound | undefined;
}
const currentCollection = new AsyncLocalStorage<CollectionScope>();

/**
 * A configured source after its setup ran: its instruments, callbacks, timeout and collection policy. It counts
 * its own failed attempts, so a result shared by several scrapes (minInterval, interval mode) counts once.
 */
export class RunningSource {
  readonly name: string;
  readonly kind: string;
  readonly timeoutMs: number;
  readonly config: ResolvedSource;
  /** When the source started: the start of its cumulative counters. */
  readonly startTime = Date.now();
  readonly registry = new ObservableRegistry();
  readonly #synchronous: SynchronousInstruments;
  /** Failed attempts since the source started, by reason. */
  readonly errors = new Map<FailureReason, number>();
  #lastSuccessMs: number | undefined;
  /** Most series one instrument may observe in one collection. */
  readonly seriesLimit: number;
  readonly #policy: CollectionPolicy;
  readonly #stop = new AbortController();
  #latest: SourceOutcome | undefined;
  #inFlight: Promise<SourceOutcome> | undefined;
  // The successful result last reported as stale, so one stale episode counts as one error.
  #staleOf: SourceOutcome | undefined;
  #pollTimer: NodeJS.Timeout | undefined;

  private constructor(config: ResolvedSource, seriesLimit: number) {
    this.config = config;
    this.name = config.name;
    this.kind = config.definition.kind;
    this.timeoutMs = config.timeoutMs;
    this.#policy = config.collection;
    this.seriesLimit = seriesLimit;
    this.#synchronous = new SynchronousInstruments(config.name, seriesLimit, config.histograms);
  }

  static async start(config: ResolvedSource, options: StartOptions): Promise<RunningSource> {
    const source = new RunningSource(config, options.seriesLimit);
    const stopSignal = source.#stop.signal;
    try {
      const setup = (async () =>
        config.definition.setup({
          name: config.name,
          meter: sourceMeter(source.#synchronous, source.registry),
          options: config.options,
          logger: options.logger.child({ source: config.name }),
          signal: stopSignal,
          collectionSignal: () => {
            const collection = currentCollection.getStore();
            if (collection === undefined) return stopSignal;
            // A callback still running after its collection ended gets an aborted signal, as it did before the end.
            return collection.signal ?? AbortSignal.abort(new Error('the collection ended'));
          },
          produce: (metrics) => {
            const collection = currentCollection.getStore();
            if (collection === undefined) throw new Error('produce() is for observable callbacks: no collection is running');
            // Once the collection ended, what a late callback produces is dropped, as a closed round drops it.
            collection.round?.produce(metrics);
          },
          seriesLimit: options.seriesLimit,
          ...(options.allowConnection && { allowConnection: options.allowConnection }),
        }))();
      // A setup that never settles would hang startup and every later reload (issue 11); on timeout the
      // source's signal aborts, so a setup that listens to it can clean up.
      await settleWithin(setup, config.setupTimeoutMs, 'setup');
    } catch (err) {
      source.stop();
      const origin = config.module ? `module ${config.module}` : `kind ${config.definition.kind}`;
      const reason = err instanceof TimeoutExceededError ? `${err.message} (global.setupTimeout)` : errorMessage(err);
      throw new SourceSetupError(`source "${config.name}" (${origin}) failed to start: ${reason}`);
    }
    if (source.#policy.mode === 'interval') source.#poll(source.#policy.intervalMs);
    return source;
  }

  /** When an attempt last succeeded (epoch ms). */
  get lastSuccessMs(): number | undefined {
    return this.#lastSuccessMs;
  }

  /** The source's result for a collection that must finish by `deadline` (performance.now() time). */
  async collect(deadline: number): Promise<SourceOutcome> {
    const policy = this.#policy;
    if (policy.mode === 'interval') return this.#latestPoll(deadline, policy.staleAfterMs);
    if (policy.minIntervalMs > 0) {
      if (this.#inFlight) return this.#inFlight;
      const latest = this.#latest;
      // Only successes are reused: after a failure the next collection tries again.
      if (latest?.ok && Date.now() - latest.at < policy.minIntervalMs) return latest;
    }
    return this.#attempt(deadline);
  }

  stop(): void {
    clearTimeout(this.#pollTimer);
    this.#stop.abort();
  }

  // Interval mode: polls now, then every interval after each poll started (never two at once).
  #poll(intervalMs: number): void {
    const started = performance.now();
    void this.#attempt(started + this.timeoutMs).then(() => {
      if (this.#stop.signal.aborted) return;
      this.#pollTimer = setTimeout(() => this.#poll(intervalMs), Math.max(0, started + intervalMs - performance.now()));
      this.#pollTimer.unref();
    });
  }

  async #latestPoll(deadline: number, staleAfterMs: number): Promise<SourceOutcome> {
    const latest = this.#latest ?? (await this.#firstPoll(deadline));
    if (!latest.ok || Date.now() - latest.at <= staleAfterMs) return latest;
    if (this.#staleOf !== latest) {
      this.#staleOf = latest;
      this.#count('stale');
    }
    const age = Math.round((Date.now() - latest.at) / 1000);
    return {
      ok: false,
      reason: 'stale',
      message: `the latest successful poll is ${age} s old (staleAfter ${staleAfterMs} ms)`,
      seconds: 0,
      at: Date.now(),
    };
  }

  async #firstPoll(deadline: number): Promise<SourceOutcome> {
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<SourceOutcome>((resolve) => {
      timer = setTimeout(
        () => resolve({ ok: false, reason: 'timeout', message: 'the first poll has not finished yet', seconds: 0, at: Date.now() }),
        Math.max(0, deadline - performance.now()),
      );
    });
    try {
      return await Promise.race([this.#inFlight!, waited]);
    } finally {
      clearTimeout(timer);
    }
  }

  #attempt(deadline: number): Promise<SourceOutcome> {
    const attempt = this.#observe(deadline).then((outcome) => {
      if (outcome.ok) this.#lastSuccessMs = outcome.at;
      else this.#count(outcome.reason);
      this.#latest = outcome;
      if (this.#inFlight === attempt) this.#inFlight = undefined;
      return outcome;
    });
    this.#inFlight = attempt;
    return attempt;
  }

  /** Runs every callback once, bounded by the source's timeout and the collection's deadline. */
  async #observe(deadline: number): Promise<SourceOutcome> {
    const started = performance.now();
    const budget = Math.max(0, Math.min(this.timeoutMs, deadline - started));
    const round = new ObservationRound(this.seriesLimit);
    // Aborted when this collection ends or the source stops, so callbacks can cancel requests and kill commands that
    // outlive it. A listener on the stop signal, removed at the end, rather than AbortSignal.any(): that registers
    // weak references and finalizers for every collection, which V8 releases only later (up to 17k of them pending
    // in a heap snapshot under probe load, issue 13).
    const collection = new AbortController();
    const stop = this.#stop.signal;
    const stopped = () => collection.abort(stop.reason);
    if (stop.aborted) stopped();
    else stop.addEventListener('abort', stopped, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), budget);
    });
    const scope: CollectionScope = { signal: collection.signal, round };
    const end = (
      fields:
        | { ok: true; round: ObservationRound; synchronous: readonly MetricData[] }
        | { ok: false; reason: FailureReason; message: string; round?: ObservationRound },
    ): SourceOutcome => ({
      ...fields,
      seconds: (performance.now() - started) / 1000,
      at: Date.now(),
    });
    try {
      const observed = currentCollection.run(scope, () => this.registry.observe(round));
      const finished = await Promise.race([observed.then(() => 'done' as const), timedOut]);
      // The round goes along so that what a source reported about itself so far (custom_exporter_*) is still shown.
      if (finished === 'timeout') return end({ ok: false, reason: 'timeout', message: `collection timed out after ${budget} ms`, round });
      if (round.overflow) return end({ ok: false, reason: 'series_limit', message: round.overflow.message, round });
      const synchronous = await this.#synchronous.collect();
      if ('overflow' in synchronous) return end({ ok: false, reason: 'series_limit', message: synchronous.overflow, round });
      return end({ ok: true, round, synchronous: synchronous.metrics });
    } catch (err) {
      return end({ ok: false, reason: failureReason(err), message: errorMessage(err), round });
    } finally {
      clearTimeout(timer);
      round.close();
      stop.removeEventListener('abort', stopped);
      collection.abort(new Error('the collection ended'));
      scope.signal = undefined;
      scope.round = undefined;
    }
  }

  #count(reason: FailureReason): void {
    this.errors.set(reason, (this.errors.get(reason) ?? 0) + 1);
  }
}

// A CollectionError names its reason; matched by shape, since a module may bring its own copy of the class.
function failureReason(err: unknown): FailureReason {
  const reason = (err as { name?: unknown; reason?: unknown } | undefined)?.reason;
  const named = (err as { name?: unknown } | undefined)?.name === 'CollectionError';
  return named && FAILURE_REASONS.includes(reason as FailureReason) ? (reason as FailureReason) : 'error';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
