import { performance } from 'node:perf_hooks';
import type { MeterProvider } from '@opentelemetry/api';
import type { ResolvedSource } from '../config/resolved.ts';
import type { Logger } from '../logging.ts';
import { ObservableRegistry } from './observable-registry.ts';
import { ObservationRound } from './observation-round.ts';
import { sourceMeter } from './source-meter.ts';

/** Why a collection of a source produced no series; the `reason` label of custom_exporter_source_errors_total. */
export type FailureReason = 'error' | 'timeout' | 'series_limit';

export type SourceOutcome =
  | { readonly ok: true; readonly round: ObservationRound; readonly seconds: number }
  | { readonly ok: false; readonly reason: FailureReason; readonly message: string; readonly seconds: number };

/** A source that failed to start; at startup this is a configuration error. */
export class SourceSetupError extends Error {
  override name = 'SourceSetupError';
}

/** A configured source after its setup ran: its instruments, callbacks and timeout. */
export class RunningSource {
  readonly name: string;
  readonly kind: string;
  readonly timeoutMs: number;
  /** When the source started: the start of its cumulative counters. */
  readonly startTime = Date.now();
  readonly registry = new ObservableRegistry();
  readonly #stop = new AbortController();

  private constructor(config: ResolvedSource) {
    this.name = config.name;
    this.kind = config.definition.kind;
    this.timeoutMs = config.timeoutMs;
  }

  static async start(config: ResolvedSource, meterProvider: MeterProvider, logger: Logger): Promise<RunningSource> {
    const source = new RunningSource(config);
    const sdkMeter = meterProvider.getMeter(config.name);
    try {
      await config.definition.setup({
        name: config.name,
        meter: sourceMeter(sdkMeter, source.registry),
        options: config.options,
        logger: logger.child({ source: config.name }),
        signal: source.#stop.signal,
      });
    } catch (err) {
      source.stop();
      throw new SourceSetupError(`source "${config.name}" (kind ${config.definition.kind}) failed to start: ${errorMessage(err)}`);
    }
    return source;
  }

  /** Runs every callback once, bounded by the source's timeout and the collection's deadline. */
  async collect(deadline: number, seriesLimit: number): Promise<SourceOutcome> {
    const started = performance.now();
    const budget = Math.max(0, Math.min(this.timeoutMs, deadline - started));
    const round = new ObservationRound(seriesLimit);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), budget);
    });
    const seconds = () => (performance.now() - started) / 1000;
    try {
      const finished = await Promise.race([this.registry.observe(round).then(() => 'done' as const), timedOut]);
      if (finished === 'timeout') {
        return { ok: false, reason: 'timeout', message: `collection timed out after ${budget} ms`, seconds: seconds() };
      }
      if (round.overflow) return { ok: false, reason: 'series_limit', message: round.overflow.message, seconds: seconds() };
      return { ok: true, round, seconds: seconds() };
    } catch (err) {
      return { ok: false, reason: 'error', message: errorMessage(err), seconds: seconds() };
    } finally {
      clearTimeout(timer);
      round.close();
    }
  }

  stop(): void {
    this.#stop.abort();
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
