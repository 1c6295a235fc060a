import { performance } from 'node:perf_hooks';
import type { Attributes } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import { emptyResource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  type CollectionResult,
  type DataPoint,
  DataPointType,
  type MetricCollectOptions,
  type MetricData,
  type MetricProducer,
  type ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import type { Logger } from '../logging.ts';
import { metricDescriptor, SELF_METRICS, type SelfMetric } from '../telemetry/self-metrics.ts';
import type { ObservableInstrument } from './observable-registry.ts';
import type { InstrumentObservations, ObservationRound } from './observation-round.ts';
import type { RunningSource, SourceOutcome } from './running-source.ts';
import { SourceSelectionError } from './source-selection-error.ts';

export interface SourceStatus {
  readonly name: string;
  readonly kind: string;
  /** Undefined until the first collection. */
  readonly up: boolean | undefined;
  readonly lastError: string | undefined;
  readonly lastSuccess: Date | undefined;
}

export interface CollectorOptions {
  /** Budget when the reader gives no timeout. */
  readonly defaultTimeoutMs: number;
  readonly logger: Logger;
  readonly selfScope: { readonly name: string; readonly version: string };
}

// What the collections so far reported about a source; its error counts and last success live in the source.
interface SourceState {
  up: boolean | undefined;
  lastError: string | undefined;
  lastSeconds: number;
}

/**
 * Collects every source's observable instruments for a metric reader (Prometheus pull or OTLP push), and
 * reports how each source did as custom_exporter_source_* metrics in the same collection.
 */
export class SourceCollector implements MetricProducer {
  #sources: readonly RunningSource[] = [];
  readonly #options: CollectorOptions;
  readonly #state = new Map<RunningSource, SourceState>();
  readonly #startTime = Date.now();

  constructor(options: CollectorOptions) {
    this.#options = options;
  }

  /** The sources to collect from now on; a source kept from before keeps its counters and state. */
  setSources(sources: readonly RunningSource[]): void {
    for (const s of this.#state.keys()) if (!sources.includes(s)) this.#state.delete(s);
    for (const s of sources) {
      if (!this.#state.has(s)) {
        this.#state.set(s, { up: undefined, lastError: undefined, lastSeconds: 0 });
      }
    }
    this.#sources = sources;
  }

  collect(options?: MetricCollectOptions): Promise<CollectionResult> {
    return this.#collect(this.#sources, options?.timeoutMillis ?? this.#options.defaultTimeoutMs);
  }

  /**
   * Collects only the sources named (`GET /metrics?source=`, issue 13): the others' callbacks do not run. Rejects
   * with SourceSelectionError, before anything runs, when a name is not a source of the running config.
   */
  collectSelected(names: ReadonlySet<string>, timeoutMs: number): Promise<CollectionResult> {
    const sources = this.#sources.filter((s) => names.has(s.name));
    if (sources.length < names.size) {
      const unknown = [...names].find((name) => !sources.some((s) => s.name === name));
      return Promise.reject(new SourceSelectionError(`unknown source ${JSON.stringify(unknown)}`));
    }
    return this.#collect(sources, timeoutMs);
  }

  async #collect(sources: readonly RunningSource[], timeoutMs: number): Promise<CollectionResult> {
    const deadline = performance.now() + timeoutMs;
    const outcomes = await Promise.all(sources.map((s) => s.collect(deadline)));
    const end = Date.now();
    const scopeMetrics: ScopeMetrics[] = [];
    sources.forEach((source, i) => {
      const outcome = outcomes[i]!;
      this.#record(source, outcome);
      // A failed collection exports only what the source reports about itself (custom_exporter_*, e.g. the
      // target's status code), so the reason for the failure stays visible.
      const metrics = outcome.ok
        ? [...roundMetrics(source, outcome.round, end), ...outcome.round.produced, ...outcome.synchronous]
        : outcome.round
          ? roundMetrics(source, outcome.round, end, isSelfReport)
          : [];
      if (metrics.length > 0) scopeMetrics.push({ scope: { name: source.name }, metrics });
    });
    scopeMetrics.push({ scope: this.#options.selfScope, metrics: this.#selfMetrics(sources, end) });
    return { resourceMetrics: { resource: emptyResource(), scopeMetrics }, errors: [] };
  }

  status(): SourceStatus[] {
    return this.#sources.map((s) => {
      const state = this.#state.get(s)!;
      const lastSuccess = s.lastSuccessMs === undefined ? undefined : new Date(s.lastSuccessMs);
      return { name: s.name, kind: s.kind, up: state.up, lastError: state.lastError, lastSuccess };
    });
  }

  #record(source: RunningSource, outcome: SourceOutcome): void {
    const state = this.#state.get(source);
    if (!state) return; // removed by a reload while it was being collected
    const log = this.#options.logger;
    state.lastSeconds = outcome.seconds;
    if (outcome.ok) {
      if (state.up === false) log.info({ source: source.name }, 'source recovered');
      state.up = true;
      state.lastError = undefined;
      return;
    }
    // Warn when a source goes down or its failure changes; repeating the same failure every scrape is noise.
    const fields = { source: source.name, reason: outcome.reason, err: outcome.message };
    if (state.up !== false || state.lastError !== outcome.message) log.warn(fields, 'source collection failed');
    else log.debug(fields, 'source collection failed');
    state.up = false;
    state.lastError = outcome.message;
  }

  // About the sources this collection collected, not the current list: a source a reload added meanwhile has not
  // been collected yet and is not down (issue 11: false source_up 0 during reloads); one it removed is gone.
  #selfMetrics(sources: readonly RunningSource[], now: number): MetricData[] {
    const up: Point[] = [];
    const seconds: Point[] = [];
    const lastSuccess: Point[] = [];
    const errors: Point[] = [];
    for (const source of sources) {
      const state = this.#state.get(source);
      if (state === undefined) continue;
      const attributes = { source: source.name };
      up.push([attributes, state.up ? 1 : 0]);
      seconds.push([attributes, state.lastSeconds]);
      if (source.lastSuccessMs !== undefined) lastSuccess.push([attributes, source.lastSuccessMs / 1000]);
      for (const [reason, count] of source.errors) errors.push([{ source: source.name, reason }, count]);
    }
    const start = this.#startTime;
    return [
      gauge(SELF_METRICS.sourceUp, up, now),
      gauge(SELF_METRICS.sourceDuration, seconds, now),
      gauge(SELF_METRICS.sourceLastSuccess, lastSuccess, now),
      counter(SELF_METRICS.sourceErrors, errors, start, now),
    ].filter((m) => m.dataPoints.length > 0);
  }
}

type Point = readonly [Attributes, number];

const isSelfReport = (instrument: ObservableInstrument) => instrument.name.startsWith('custom_exporter_');

function roundMetrics(
  source: RunningSource,
  round: ObservationRound,
  now: number,
  include = (_: ObservableInstrument) => true,
): MetricData[] {
  const metrics: MetricData[] = [];
  for (const [instrument, series] of round.series) {
    if (!include(instrument)) continue;
    const descriptor = {
      name: instrument.name,
      description: instrument.description,
      unit: instrument.unit,
      valueType: instrument.valueType,
    };
    if (instrument.kind === 'gauge') {
      metrics.push({ ...base(descriptor), dataPointType: DataPointType.GAUGE, dataPoints: observedPoints(series, now, now) });
    } else {
      metrics.push({
        ...base(descriptor),
        dataPointType: DataPointType.SUM,
        isMonotonic: instrument.kind === 'counter',
        dataPoints: observedPoints(series, source.startTime, now),
      });
    }
  }
  return metrics;
}

type Descriptor = MetricData['descriptor'];

function base(descriptor: Descriptor) {
  return { descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE };
}

// One data point per series, straight from the round's arrays (this runs for every series of every scrape).
function observedPoints({ attributes, observed }: InstrumentObservations, start: number, end: number): DataPoint<number>[] {
  const startTime = millisToHrTime(start);
  const endTime = millisToHrTime(end);
  const points = new Array<DataPoint<number>>(observed.length);
  for (let i = 0; i < observed.length; i++) points[i] = { startTime, endTime, attributes: attributes[i]!, value: observed[i]! };
  return points;
}

function dataPoints(points: readonly Point[], start: number, end: number) {
  const startTime = millisToHrTime(start);
  const endTime = millisToHrTime(end);
  return points.map(([attributes, value]) => ({ startTime, endTime, attributes, value }));
}

function gauge(metric: SelfMetric, points: Point[], now: number): MetricData {
  return { ...base(metricDescriptor(metric)), dataPointType: DataPointType.GAUGE, dataPoints: dataPoints(points, now, now) };
}

function counter(metric: SelfMetric, points: Point[], start: number, now: number): MetricData {
  return {
    ...base(metricDescriptor(metric)),
    dataPointType: DataPointType.SUM,
    isMonotonic: true,
    dataPoints: dataPoints(points, start, now),
  };
}
